"""CDISC SDTM from plain study data: mappers, SAS XPORT v5, Dataset-JSON 1.1, Define-XML 2.1,
and reading those formats back.

>>> from oncotrials.core.sdtm import sdtm_files
"""

from __future__ import annotations

import datetime as dt

from .define import define_schema_errors, define_xml, read_define
from .domains import DOMAINS, sdtm_datasets, split_text
from .model import Dataset, Study
from .read import decode_text, read_csv, read_table, read_xpt, xpt_to_dataset_json
from .snapshot import study_from_json, study_to_json
from .writers import dataset_json, dataset_json_errors, json_bytes, widths, xpt_bytes

__all__ = [
    "DOMAINS",
    "Dataset",
    "Study",
    "dataset_json_errors",
    "decode_text",
    "define_schema_errors",
    "read_csv",
    "read_define",
    "read_table",
    "read_xpt",
    "sdtm_datasets",
    "sdtm_files",
    "split_text",
    "study_from_json",
    "study_to_json",
    "widths",
    "xpt_to_dataset_json",
]


def sdtm_files(study: Study, *, created: dt.datetime) -> dict[str, bytes]:
    """Every file of an SDTM delivery: ``<domain>.xpt`` (SAS XPORT v5) and ``<domain>.json``
    (Dataset-JSON 1.1) per dataset, and ``define.xml`` (Define-XML 2.1).

    Each file is checked before it is returned: the XPT read back with its widths, the
    Dataset-JSON against CDISC's schema, the Define-XML against its XSD. Files carry ``created``
    as their timestamp, so the same study and time give byte-identical files.
    """
    from oncotrials.core.errors import ValidationError

    datasets = sdtm_datasets(study)
    study_oid = f"STDY.{study.study_id}"
    mdv_oid = f"MDV.{study.study_id}.SDTMIG.3.4"
    files: dict[str, bytes] = {}
    for ds in datasets:
        files[f"{ds.name.lower()}.xpt"] = xpt_bytes(ds, created=created)
        doc = dataset_json(ds, study_oid=study_oid, mdv_oid=mdv_oid, created=created)
        errors = dataset_json_errors(doc)
        if errors:
            raise ValidationError(
                f"{ds.name}.json breaks the Dataset-JSON schema: {errors[0]}",
                code="sdtm_json_breaks_dataset_json",
                name=str(ds.name),
                errors=str(errors[0]),
            )
        files[f"{ds.name.lower()}.json"] = json_bytes(doc)
    define = define_xml(
        datasets,
        study_id=study.study_id,
        title=study.title,
        study_oid=study_oid,
        mdv_oid=mdv_oid,
        created=created,
        notes=study.notes,
    )
    errors = define_schema_errors(define)
    if errors:
        raise ValidationError(
            f"define.xml breaks the Define-XML 2.1 schema: {errors[0]}",
            code="sdtm_define_xml_breaks_define",
            errors=str(errors[0]),
        )
    files["define.xml"] = define
    return dict(sorted(files.items()))
