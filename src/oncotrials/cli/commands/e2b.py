"""``oncotrials export e2b --ae ID``: the ICH E2B(R3) ICSR of an SAE report version."""

from __future__ import annotations

from pathlib import Path

from oncotrials.cli.output import OutputFormat, print_json, stderr, stdout
from oncotrials.core.errors import NotFoundError, ValidationError


def export_e2b(
    *, ae_id: int | None, report: int | None, out: Path, user: str | None, fmt: OutputFormat
) -> None:
    """Write the ICSR of report ``report`` (default: the latest) of SAE ``ae_id`` into ``out``,
    as ``user`` (checked: sees the SAE and may report it; recorded in the audit trail)."""
    if ae_id is None:
        raise ValidationError("Give the adverse event with --ae ID (e2b exports one SAE).")
    if not user:
        raise ValidationError(
            "Give --user: an ICSR export is recorded under the name of who made it."
        )
    from oncotrials.cli import django_setup

    django_setup.setup()
    from django.contrib.auth import get_user_model

    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.safety.e2b import icsr_export
    from oncotrials.apps.safety.selectors import adverse_event_get_for_user

    by = get_user_model().objects.filter(username=user, is_active=True).first()
    if by is None:
        raise NotFoundError(f"No active user {user!r}; give an existing --user.")
    with audit_context(channel="cli", user=by):
        ae = adverse_event_get_for_user(user=by, ae_id=ae_id)
        icsr = icsr_export(ae=ae, by=by, sequence=report)
    out.mkdir(parents=True, exist_ok=True)
    target = out / icsr.filename
    target.write_bytes(icsr.content)
    result = {
        "ae": ae_id,
        "safety_report_id": icsr.safety_report_id,
        "version": icsr.version,
        "file": str(target),
        "sha256": icsr.sha256,
    }
    if fmt is OutputFormat.json:
        print_json(result)
        return
    stdout.print(f"{target}\t{icsr.sha256}")
    stderr.print(f"ICSR {icsr.safety_report_id} version {icsr.version} written to {target}.")
