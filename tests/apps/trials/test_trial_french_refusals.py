"""The trial services' refusals are worded in the user's language on the page that caused them."""

from __future__ import annotations

from oncotrials.apps.trials.models import Trial


def _stale_edit(trial: Trial) -> dict[str, object]:
    return {
        "protocol_code": trial.protocol_code,
        "title": "A new title",
        "sponsor": trial.sponsor,
        "sponsor_type": trial.sponsor_type,
        "phase": trial.phase,
        "modality": trial.modality,
        "tumour_types": ", ".join(trial.tumour_types),
        "targets": ", ".join(trial.targets),
        "expected_version": "9",
        "reason": "Protocol amendment 2",
        "sites": [ts.site_id for ts in trial.trial_sites.all()],
    }


def test_a_stale_trial_edit_is_refused_in_french_and_in_english(unit, client_for):
    trial = unit.trial_main
    c = client_for("datamanager")
    english = c.post(f"/trials/{trial.pk}/edit/", _stale_edit(trial)).content.decode()
    assert (
        "Trial T-MAIN was changed by someone else (version 1, you edited version 9); reload and "
        "apply your change again." in english
    )
    c.cookies["django_language"] = "fr"
    r = c.post(f"/trials/{trial.pk}/edit/", _stale_edit(trial))
    page = r.content.decode()
    assert (
        "L’essai T-MAIN a été modifié par quelqu’un d’autre (version 1, vous avez modifié la "
        "version 9) ; rechargez la page et refaites votre modification." in page
    )
    assert "changed by someone else" not in page
    assert 'value="A new title"' in page
    trial.refresh_from_db()
    assert (trial.title, trial.version) == ("Trial T-MAIN", 1)


def test_the_api_refuses_a_second_cohort_code_in_the_users_language(unit, client_for):
    """The API answers in the language of the user's profile (the cookie, or the browser's
    Accept-Language, only when the profile names none)."""
    trial, admin = unit.trial_main, unit.users["admin"]
    url = f"/api/v1/trials/{trial.pk}/cohorts"
    body = {"code": "ESC", "name": "Again", "kind": "escalation"}
    english = client_for("admin").post(url, body, content_type="application/json")
    assert english.status_code == 409
    assert english.json()["message"] == "Trial T-MAIN already has a cohort 'ESC'."
    admin.language = "fr"
    admin.save(update_fields=["language"])
    french = client_for("admin").post(url, body, content_type="application/json")
    assert french.status_code == 409
    assert french.json()["message"] == "L’essai T-MAIN a déjà une cohorte 'ESC'."
    assert french.json()["code"] == english.json()["code"]
    assert trial.cohorts.count() == 1
