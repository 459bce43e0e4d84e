"""The adverse-event form assumes nothing clinical: a new event is not pre-marked as expected."""

from __future__ import annotations

from oncotrials.apps.safety.models import AdverseEvent


def test_a_new_ae_is_not_pre_marked_expected(safety, client_for):
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    page = c.get(url).content.decode()
    expected = page.split('name="expected"', 1)[1].split(">", 1)[0]
    assert "checked" not in expected
    r = c.post(
        url,
        {"term": "Nausea", "grade": "2", "onset_date": "2026-11-15", "action": "draft"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 204
    assert AdverseEvent.objects.get().expected is False


def test_a_refused_ae_keeps_what_was_typed(safety, client_for):
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    r = c.post(
        url,
        {
            "term": "Nausea",
            "grade": "5",
            "verbatim": "felt sick after dose",
            "onset_date": "2026-11-15",
            "expected": "on",
            "action": "draft",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 422
    page = r.content.decode()
    assert "Grade 5 does not exist" in page
    assert 'value="felt sick after dose"' in page
    assert 'name="onset_date" value="2026-11-15"' in page
    expected = page.split('name="expected"', 1)[1].split(">", 1)[0]
    assert "checked" in expected
    assert not AdverseEvent.objects.exists()


def _tag(page: str, name: str) -> str:
    """The opening tag of the input named ``name``."""
    before, after = page.split(f'name="{name}"', 1)
    return before.rsplit("<", 1)[1] + after.split(">", 1)[0]


def test_every_error_is_shown_next_to_its_field_at_once(safety, client_for):
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    r = c.post(
        url,
        {
            "term": "Nausea",
            "grade": "5",  # not a grade of Nausea
            "onset_date": "2026-11-15",
            "resolution_date": "2026-11-10",  # before the onset
            "verbatim": "kept",
            "action": "draft",
        },
    )
    assert r.status_code == 422
    page = r.content.decode()
    form = r.context["form"]
    assert set(form.errors) == {"grade", "resolution_date"}
    # each error beside its field, referenced by the field, in plain words
    for name in ("grade", "resolution_date"):
        tag = _tag(page, name)
        assert 'aria-invalid="true"' in tag
        assert f'aria-describedby="id_{name}-error"' in tag
        assert f'id="id_{name}-error"' in page
    assert "Grade 5 does not exist for Nausea; its grades are 1, 2, 3." in page
    assert "The event cannot resolve before its onset (2026-11-15)." in page
    assert 'aria-invalid="true"' not in _tag(page, "onset_date")
    # one summary, first, announced, linking to each field
    summary = page.split('data-testid="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#id_grade"' in summary
    assert 'href="#id_resolution_date"' in summary
    assert 'role="alert"' in page.split('data-testid="error-summary"', 1)[0].rsplit("<", 1)[1]
    # required fields are marked and explained once
    assert page.count('class="required-note"') == 1
    assert "<abbr" in page.split('for="id_term"', 1)[1].split("</label>", 1)[0]
    # the unit is in the label
    assert "Site aware of seriousness at (UTC)" in page
    assert 'value="kept"' in page
    assert not AdverseEvent.objects.exists()


def test_the_errors_are_in_french_for_a_french_user(safety, client_for, unit):
    unit.users["nurse"].language = "fr"
    unit.users["nurse"].save(update_fields=["language"])
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    r = c.post(
        url,
        {"term": "", "onset_date": "2026-11-15", "action": "draft"},
    )
    page = r.content.decode()
    assert r.status_code == 422
    assert "Indiquez le terme CTCAE" in page
    assert "requis" in page


def test_completing_lists_every_gap_next_to_its_field(safety, client_for):
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    r = c.post(url, {"term": "Nausea", "action": "complete"})
    assert r.status_code == 422
    errors = r.context["form"].errors
    assert {"grade", "onset_date", "action_taken", "outcome"} <= set(errors)
    assert errors["grade"] == ["Give the CTCAE grade."]
    assert any(name.startswith("attribution__") for name in errors)
    assert not AdverseEvent.objects.exists()
