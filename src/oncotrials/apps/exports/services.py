"""Writes of data cuts: make a cut (audited), and export its files (audited, checked against the
digests the cut recorded)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import (
    Action,
    Target,
    action_text,
    may,
    refusal,
    roles_on,
    roles_text,
)
from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_record
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.selectors import arm_visible_to
from oncotrials.apps.trials.models import Trial
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

from .models import DataCut, DataCutSite
from .registry import format_get
from .selectors import export_sites


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_cut_create(
    *,
    trial: Trial,
    name: str,
    formats: Sequence[str],
    by: User | None,
    reason: str = "",
) -> DataCut:
    """Freeze the trial's data at the sites the user may export into a named cut, write every
    format once to record its files' SHA-256, and audit who, when, what and which files."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(gettext("Give the data cut a name of 1 to 100 characters."))
    wanted = list(dict.fromkeys(formats))
    if not wanted:
        raise ValidationError(gettext("Choose at least one export format."))
    exporters = [format_get(f) for f in wanted]
    sites = export_sites(user=by, trial=trial)
    if not sites:
        raise refusal(Action.EXPORT_DATA, roles_on(by, trial) if by is not None else set())
    if by is not None:
        check_may_know_arms(by, trial, [s.pk for s in sites])
    created = timezone.now().replace(microsecond=0)
    content: dict[str, str] = {}
    files: dict[str, dict[str, dict[str, Any]]] = {}
    subjects = 0
    for fmt in exporters:
        text = fmt.collect(trial, sites)
        written = fmt.write(text, created)
        content[fmt.name] = text
        files[fmt.name] = {
            n: {"sha256": _sha256(data), "bytes": len(data)} for n, data in written.items()
        }
        subjects = max(subjects, fmt.subjects(text))
    try:
        with transaction.atomic():
            cut = DataCut.objects.create(
                name=name,
                trial=trial,
                created_at=created,
                created_by=by,
                reason=reason,
                formats=wanted,
                content=content,
                content_sha256={k: _sha256(v.encode("utf-8")) for k, v in content.items()},
                files=files,
                subjects=subjects,
            )
            DataCutSite.objects.bulk_create([DataCutSite(cut=cut, site=s) for s in sites])
            audit_record(
                action="data_cut.create",
                instance=cut,
                changes={
                    "formats": wanted,
                    "sites": [s.code for s in sites],
                    "subjects": subjects,
                    "content_sha256": cut.content_sha256,
                    "files": {f: {n: i["sha256"] for n, i in v.items()} for f, v in files.items()},
                },
                reason=reason,
                by=by,
            )
    except IntegrityError:
        raise ConflictError(
            gettext(
                "Trial %(protocol_code)s already has a data cut named %(name)s; choose another "
                "name."
            )
            % {"protocol_code": trial.protocol_code, "name": repr(name)}
        ) from None
    return cut


def data_cut_files(*, cut: DataCut, fmt: str, by: User | None) -> dict[str, bytes]:
    """The files of one format of the cut, written again from its frozen content and checked
    against the digests recorded when it was made; the export is audited."""
    if fmt not in cut.formats:
        raise ValidationError(
            gettext("Data cut %(cut)s was made for %(formats)s, not %(fmt)s.")
            % {"cut": repr(cut.name), "formats": ", ".join(cut.formats), "fmt": repr(fmt)}
        )
    exporter = format_get(fmt)
    written = exporter.write(cut.content[fmt], cut.created_at.replace(microsecond=0))
    recorded = cut.files.get(fmt, {})
    changed = sorted(
        n
        for n in set(recorded) | set(written)
        if n not in written or n not in recorded or _sha256(written[n]) != recorded[n]["sha256"]
    )
    if changed:
        raise ConflictError(
            gettext(
                "Exporting %(fmt)s from data cut %(cut)s gives files that differ from those "
                "recorded when it was made (%(changed)s); report this to the administrator."
            )
            % {"fmt": fmt, "cut": repr(cut.name), "changed": ", ".join(changed)}
        )
    audit_record(
        action="data_cut.export",
        instance=cut,
        changes={"format": fmt, "files": sorted(written)},
        by=by,
    )
    return written


def zip_bytes(files: dict[str, bytes], *, cut: DataCut, folder: str) -> bytes:
    """A zip archive of the files, stamped with the cut's time (the same cut, the same bytes)."""
    stamp = cut.created_at.astimezone(dt.UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def check_may_know_arms(user: User, trial: Trial, site_ids: Sequence[int]) -> None:
    """Refuse (403) a cut of a blinded trial to a user who may not know its patients' arms.

    Every format writes each subject's arm or agents (SDTM DM ARM/ACTARM and EX EXTRT, FHIR
    ResearchSubject arm and MedicationAdministration, the cBioPortal timeline's treatments), and
    no format has a documented masked value that hides them all, so the whole cut is refused
    rather than masked. The rule is ``subjects.selectors.arm_visible_to``, asked once per site
    (a registration's access target is its patient's site and its trial)."""
    seen: set[int] = set()
    regs = (
        Registration.objects.filter(trial=trial, patient__site_id__in=list(site_ids))
        .select_related("patient", "trial__randomisation_scheme")
        .order_by("patient__site_id", "pk")
    )
    for reg in regs.iterator():
        if reg.patient.site_id in seen:
            continue
        seen.add(reg.patient.site_id)
        if not arm_visible_to(user=user, registration=reg):
            who = roles_text(Action.UNBLIND)
            raise PermissionDeniedError(
                gettext(
                    "Trial %(trial)s is blinded: its data cuts carry each subject's arm and "
                    "treatments, so only a role that may know a blinded arm (%(roles)s) may "
                    "make or export them."
                )
                % {"trial": trial.protocol_code, "roles": who}
            )


def check_may_export(user: User, cut: DataCut) -> None:
    """Refuse (403) a user who sees the cut but may not export its trial at all its sites, or
    may not know the arms of a blinded trial."""
    site_ids = list(cut.cut_sites.values_list("site_id", flat=True))
    for site_id in site_ids:
        if not may(
            user, Action.EXPORT_DATA, on=Target(frozenset({site_id}), frozenset({cut.trial_id}))
        ):
            raise PermissionDeniedError(
                gettext("Your role does not allow you to %(action)s.")
                % {"action": action_text(Action.EXPORT_DATA)}
            )
    check_may_know_arms(user, cut.trial, site_ids)
