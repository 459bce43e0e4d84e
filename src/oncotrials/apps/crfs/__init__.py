"""Electronic case report forms: declared forms per visit, labs, exposure, and the generic
data-cleaning services that any app may use on its own records.

Generic service API (``oncotrials.apps.crfs.services``), for any model with a ``version`` field
that belongs to a patient (a ``registration`` or ``patient`` foreign key, or a Registration
itself for the whole casebook)::

    query_raise(*, record, field, text, by) -> DataQuery       # field "" = the whole record
    query_answer(*, query, text, by) -> DataQuery
    query_close(*, query, text="", by, reopen=False) -> DataQuery
    queries_close_for_void(*, record, reason, by) -> list[DataQuery]   # the record was voided
    sdv_record(*, record, by, note="") -> SourceVerification   # monitors, CRAs; never edits
    sdv_is_current(record) -> bool
    signature_sign(*, record, meaning, password, by) -> Signature   # investigators
    signature_is_valid(signature_or_record) -> bool            # False after any later change

Read side (``selectors``): ``record_status(record)`` (queries with their trail, verifications,
signatures each checked), ``queries_for_user(user=, status=, trial_id=)``,
``record_get_for_user(user=, record_type="app.model", record_id=)``.

To adopt them, register the model once in ``AppConfig.ready`` (``records.py``)::

    record_type_register(AdverseEvent)            # enables /api/v1/crfs/queries, signatures...
    casebook_provider_register(lambda reg: AdverseEvent.objects.filter(registration=reg))

and include ``crfs/_partials/record_panel.html`` with ``panel`` in the context
(``views.record_panel_context(request, record)``) on the record's page. A signature stores a SHA-256 fingerprint of the
record's stored fields (for a casebook, of every record that the providers return), so any
change, by any path, invalidates it.
"""
