"""The lab-result and drug-administration forms show every error next to its field, in plain
words, keep what was typed and save nothing."""

from __future__ import annotations

from oncotrials.apps.crfs.models import DrugAdministration, LabResult


def _client(cb, name):
    from django.test import Client

    c = Client()
    c.force_login(cb.users[name], backend="django.contrib.auth.backends.ModelBackend")
    return c


def _tag(page: str, name: str) -> str:
    before, after = page.split(f'name="{name}"', 1)
    return before.rsplit("<", 1)[1] + after.split(">", 1)[0]


def test_the_lab_form_lists_every_error_beside_its_field(cb):
    c = _client(cb, "nurse")
    r = c.post(
        f"/crfs/registrations/{cb.registration.pk}/labs/",
        {
            "analyte": "neutrophils",
            "value": "abc",
            "unit": "",
            "lln": "2",
            "uln": "1",
            "sampled_on": "2026-11-13",
        },
    )
    assert r.status_code == 422
    form = r.context["form"]
    assert set(form.errors) == {"value", "unit", "uln"}
    page = r.content.decode()
    for name in ("value", "unit", "uln"):
        assert 'aria-invalid="true"' in _tag(page, name)
        assert f'id="id_{name}-error"' in page
    assert "Enter a number, e.g. 1.5; got “abc”." in page
    assert "The upper limit of normal must be above the lower limit (2)." in page
    assert (
        "Lower limit of normal (unit of the value, unless the unit of the limits is given)" in page
    )
    assert 'value="abc"' in page
    assert 'value="2026-11-13"' in page
    assert '<option value="neutrophils" selected>' in page
    assert 'data-testid="error-summary"' in page
    assert not LabResult.objects.exists()


def test_a_refusal_of_the_lab_service_lands_next_to_its_field(cb):
    c = _client(cb, "nurse")
    r = c.post(
        f"/crfs/registrations/{cb.registration.pk}/labs/",
        {"analyte": "neutrophils", "value": "0.7", "unit": "mg/dL", "sampled_on": "2026-11-13"},
    )
    assert r.status_code == 422
    assert "does not fit" in " ".join(r.context["form"].errors["unit"])


def test_the_administration_form_lists_every_error_beside_its_field(cb):
    c = _client(cb, "nurse")
    url = f"/crfs/registrations/{cb.registration.pk}/exposure/"
    page = c.get(url).content.decode()
    assert "Dose (mg)" in page  # the regimen's unit, in the label
    r = c.post(
        url,
        {
            "agent": "",
            "dose": "-5",
            "unit": "mg",
            "administered_on": "2999-01-01",
            "modification": "reduction",
            "modification_reason": "",
        },
    )
    assert r.status_code == 422
    errors = r.context["form"].errors
    assert set(errors) == {"agent", "dose", "administered_on", "modification_reason"}
    page = r.content.decode()
    assert "A dose cannot be negative." in page
    assert "This date is in the future" in page
    assert "Say why (e.g. the toxicity that caused the dose reduction)." in page
    assert 'value="-5"' in page
    assert not DrugAdministration.objects.exists()
