"""The SDTM and ODM cores' refusals in the user's language.

``oncotrials.core.sdtm`` and ``oncotrials.core.odm`` (no Django there) refuse with a stable code
and, in ``extra``, the values the message names (dataset, variable, subject, file and line). This
is the one place that words them for the exports app; a code it does not know keeps the core's
English.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue

EXPORT_CORE_MESSAGES: Catalogue = {
    "sdtm_define_xml_breaks_define": _("define.xml breaks the Define-XML 2.1 schema: %(errors)s"),
    "sdtm_json_breaks_dataset_json": _("%(name)s.json breaks the Dataset-JSON schema: %(errors)s"),
    "sdtm_study_metadataversion_define_xml": _(
        "%(path)s: no Study/MetaDataVersion; is this a Define-XML file?"
    ),
    "sdtm_read_define_xml": _("%(path)s: cannot read Define-XML: %(detail)s"),
    "sdtm_itemref_itemdef": _("%(path)s: ItemRef %(itemoid)s of %(name)s has no ItemDef."),
    "sdtm_variable_name_uppercase_letters": _(
        "%(where)s: variable name %(name)s is not 1-8 uppercase letters."
    ),
    "sdtm_label_characters_xpt_v5": _(
        "%(where)s.%(name)s: label %(label)s has %(n_label)s characters; XPT v5 allows "
        "%(max_label)s."
    ),
    "sdtm_study_identifier_studyid_characters": _(
        "The study identifier (STUDYID) must have 1-200 characters."
    ),
    "sdtm_research_identifiers_appear_twice": _(
        "Research identifiers appear twice in the cut: %(duplicates)s."
    ),
    "sdtm_subject_unknown_vital_sign": _(
        "Subject %(research_id)s: unknown vital sign %(test)s; known: %(vital_tests)s."
    ),
    "sdtm_qval_over_bytes": _("%(name)s: QVAL over %(max_text_bytes)s bytes for %(qnam)s."),
    "sdtm_subject_unknown_disposition_kind": _(
        "Subject %(research_id)s: unknown disposition kind %(kind)s; use consent, "
        "end_of_treatment or end_of_study."
    ),
    "sdtm_unknown_variables": _("%(name)s: unknown variables %(unknown)s."),
    "sdtm_line_byte_0x_neither": _(
        "%(source)s, line %(line)s: byte 0x%(byte)s is neither UTF-8 nor Windows-1252; give "
        "the file's encoding (e.g. --encoding latin-1) or save it as UTF-8."
    ),
    "sdtm_unknown_kind_file_give": _(
        "%(name)s: unknown kind of file; give a .csv, .xpt or .json dataset."
    ),
    "sdtm_no_header_line": _("%(name)s: no header line."),
    "sdtm_no_such_xpt_file": _("%(file)s: no such file."),
    "sdtm_sas_transport_xport_file": _(
        "%(name)s: not a SAS transport (XPORT) file; its first record reads %(head)s."
    ),
    "sdtm_no_such_file": _("%(file)s: no such file."),
    "sdtm_line_more_cells_than": _("%(name)s, line %(n)s: more cells than the header has columns."),
    "sdtm_read_sas_xport": _("%(name)s: cannot be read as SAS XPORT: %(detail)s."),
    "sdtm_line_json": _("%(name)s, line %(lineno)s: not JSON: %(msg)s."),
    "sdtm_dataset_json_document": _("%(name)s: not a Dataset-JSON document (%(detail)s)."),
    "sdtm_dataset_described_define_xml": _(
        "%(name)s: dataset %(name_2)s is not described in the Define-XML (it has %(groups)s)."
    ),
    "sdtm_variables_define_xml": _(
        "%(name)s: variables %(missing)s are not in the Define-XML of %(name_2)s."
    ),
    "sdtm_wrong_encoding": _("%(source)s: cannot be read as %(encoding)s: %(detail)s."),
    "sdtm_character_data_neither_utf": _(
        "%(name)s: character data is neither UTF-8 nor Windows-1252 (%(detail)s); give its "
        "encoding."
    ),
    "sdtm_integer_define_xml_but": _(
        "%(name)s: %(c)s is an integer in the Define-XML but holds %(value)s."
    ),
    "sdtm_date_iso_date": _("%(where)s: date %(text)s is not an ISO 8601 date."),
    "sdtm_size_number": _("%(where)s: size %(value)s is not a number."),
    "sdtm_lesions_tu_but_tr": _("%(subject)s: lesions in TU but no TR measurement."),
    "sdtm_tu_record_empty": _("TU record %(n)s: %(col)s is empty."),
    "sdtm_fits_none": _("%(where)s: %(data)s fits none of %(tp)s."),
    "sdtm_expected_object": _("%(where)s: expected an object for %(name)s."),
    "sdtm_dataset_name_longer_than": _("Dataset name %(name)s is longer than %(max_name)s."),
    "sdtm_label_longer_than_characters": _("%(name)s: label longer than %(max_label)s characters."),
    "sdtm_xpt_writer_did_produce": _(
        "The XPT writer did not produce a SAS XPORT v5 library header."
    ),
    "sdtm_xpt_widths_differ_from": _(
        "%(name)s: the XPT widths %(variable_storage_width)s differ from the declared lengths"
        " %(expected)s."
    ),
    "sdtm_value_bytes_xpt_v5": _(
        "%(name)s.%(name_2)s: a value has %(width)s bytes; XPT v5 allows %(max_text_bytes)s. "
        "Move the rest to SUPP%(name)s (never cut it)."
    ),
    "sdtm_name_label_too_long": _("%(name)s.%(name_2)s: name or label too long for XPT v5."),
    "sdtm_unexpected_xpt_header_layout": _(
        "Unexpected XPT header layout; cannot set its timestamps."
    ),
    "odm_cut_unreadable": _("The ODM data of this cut cannot be read: %(detail)s."),
    "odm_item_refused": _("%(oid)s: %(why)s"),
    "odm_document_declares_doctype_which": _(
        "The document declares a DOCTYPE, which ODM never needs; remove it."
    ),
    "odm_root_element_namespace_expected": _(
        "The root element is %(localname)s in namespace %(namespace)s; expected ODM in %(ns)s"
        " (ODM 1.3)."
    ),
    "odm_document_holds_metadataversion": _("The document holds no MetaDataVersion%(which)s."),
    "odm_line_well_formed_xml": _("line %(lineno)s: not well-formed XML: %(msg)s"),
    "odm_odm_document_invalid": _("The ODM document of %(study_id)s is invalid: %(problems)s"),
    "odm_form_declaration_faulty_correct": _(
        "Form declaration %(name)s is faulty: %(detail)s; correct it first."
    ),
    "odm_subject_form_declaration_export": _(
        "Subject %(key)s: form %(form)s at %(visit)s has no declaration in this export."
    ),
}
