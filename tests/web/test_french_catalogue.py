"""The French catalogue is complete, keeps every placeholder, and is what the pages show.

The catalogue is checked in its source form (django.po) and in its compiled form (django.mo,
read with the standard library's gettext), so that a commit of one without the other fails.
"""

from __future__ import annotations

import gettext
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LC_MESSAGES = Path(__file__).parents[2] / "src/oncotrials/locale/fr/LC_MESSAGES"

# Printf-style and brace placeholders, and HTML tags, must come through translation unchanged.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|<[^>]+>")
# International abbreviations that French clinical research keeps as they are.
KEPT_AS_IS = (
    "CTCAE",
    "RECIST",
    "iRECIST",
    "ECOG",
    "OncoTree",
    "ESCAT",
    "ICANS",
    "ASTCT",
    "BOIN",
    "YAML",
    "JSON",
    "CSV",
)


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    context: str | None = None
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False


def _unquote(text: str) -> str:
    return bytes(text.strip()[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode()


def _parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current, target = None, None
            continue
        if current is None:
            current = Entry(line=number)
            entries.append(current)
        if line.startswith("#,") and "fuzzy" in line:
            current.fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            current.context = _unquote(line[len("msgctxt ") :])
            target = ("msgctxt", 0)
        elif line.startswith("msgid_plural "):
            current.msgid_plural = _unquote(line[len("msgid_plural ") :])
            target = ("msgid_plural", 0)
        elif line.startswith("msgid "):
            current.msgid = _unquote(line[len("msgid ") :])
            target = ("msgid", 0)
        elif line.startswith("msgstr"):
            value = line.partition(" ")[2]
            current.msgstr.append(_unquote(value))
            target = ("msgstr", len(current.msgstr) - 1)
        elif line.startswith('"') and target is not None:
            kind, index = target
            if kind == "msgid":
                current.msgid += _unquote(line)
            elif kind == "msgctxt":
                current.context = (current.context or "") + _unquote(line)
            elif kind == "msgid_plural":
                current.msgid_plural = (current.msgid_plural or "") + _unquote(line)
            else:
                current.msgstr[index] += _unquote(line)
        else:
            raise AssertionError(f"django.po line {number}: cannot read {raw!r}")
    return [e for e in entries if e.msgid]


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return _parse_po(LC_MESSAGES / "django.po")


def test_the_parser_reads_plurals_escapes_and_continuations(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        '#, fuzzy\nmsgid "%(n)s query"\nmsgid_plural "%(n)s queries"\n'
        'msgstr[0] "%(n)s requête"\nmsgstr[1] ""\n"%(n)s requêtes"\n\n'
        'msgid "Say \\"yes\\""\nmsgstr "Dites « oui »"\n',
        encoding="utf-8",
    )
    plural, quoted = _parse_po(po)
    assert (plural.line, plural.fuzzy, plural.msgid_plural) == (5, True, "%(n)s queries")
    assert plural.msgstr == ["%(n)s requête", "%(n)s requêtes"]
    assert (quoted.msgid, quoted.fuzzy) == ('Say "yes"', False)
    bad = tmp_path / "bad.po"
    bad.write_text('msgid "x"\nmsgstr "y"\ngarbage\n', encoding="utf-8")
    with pytest.raises(AssertionError, match="line 3"):
        _parse_po(bad)


def test_every_message_is_translated_and_none_is_fuzzy(entries):
    assert len(entries) > 700
    untranslated = [f"line {e.line}: {e.msgid}" for e in entries if not all(e.msgstr)]
    fuzzy = [f"line {e.line}: {e.msgid}" for e in entries if e.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_plural_messages_have_both_french_forms(entries):
    plurals = [e for e in entries if e.msgid_plural is not None]
    assert plurals
    for e in plurals:
        assert len(e.msgstr) == 2, f"line {e.line}"


def test_placeholders_and_markup_are_kept(entries):
    wrong = []
    for e in entries:
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        wanted = {tuple(sorted(PLACEHOLDER.findall(s))) for s in sources}
        for form in e.msgstr:
            if tuple(sorted(PLACEHOLDER.findall(form))) not in wanted:
                wrong.append(f"line {e.line}: {e.msgid!r} -> {form!r}")
    assert wrong == []


def test_international_abbreviations_are_not_translated(entries):
    wrong = [
        f"line {e.line}: {word} in {e.msgid!r}"
        for e in entries
        for word in KEPT_AS_IS
        if re.search(rf"\b{word}\b", e.msgid)
        and not all(re.search(rf"\b{word}\b", form) for form in e.msgstr)
    ]
    assert wrong == []


def test_compiled_catalogue_matches_the_source(entries):
    with (LC_MESSAGES / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in entries:
        if e.msgid_plural is None and e.context is not None:
            got = [compiled.pgettext(e.context, e.msgid)]
        elif e.msgid_plural is None:
            got = [compiled.gettext(e.msgid)]
        else:
            got = [
                compiled.ngettext(e.msgid, e.msgid_plural, 1),
                compiled.ngettext(e.msgid, e.msgid_plural, 2),
            ]
        if got != e.msgstr:
            stale.append(f"line {e.line}: {e.msgid!r}")
    assert stale == [], "django.mo is out of date: run compilemessages"


def _french(client):
    client.cookies["django_language"] = "fr"
    return client


@pytest.mark.parametrize(
    ("url", "french", "english"),
    [
        ("/safety/", "Déclarations d'EIG à faire", "SAE reports due"),
        ("/safety/dlt/", "Aucun cas de DLT.", "No DLT case."),
        ("/worklists/", "Visites prévues aujourd'hui et en retard", "Visits due today"),
        ("/crfs/queries/", "Requêtes sur les données", "Data queries"),
        ("/genomics/", "Requête de cohorte génomique", "Genomic cohort query"),
        ("/mtb/", "Nouvelle réunion", "New meeting"),
        ("/mtb/referrals/", "Orientations de la RCP moléculaire", "Tumour-board referrals"),
        ("/efficacy/", "Efficacité", "Efficacy"),
    ],
)
def test_pages_are_shown_in_french(client_for, url, french, english):
    response = _french(client_for("investigator")).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr"' in page
    assert french in page
    assert english not in page


def test_the_same_page_stays_english_without_the_choice(client_for):
    page = client_for("investigator").get("/safety/").content.decode()
    assert "SAE reports due" in page
    assert "Déclarations d'EIG à faire" not in page


@pytest.fixture
def registered(journey, screen):
    """The journey's main-site patient, registered in the shared trial."""
    import datetime as dt

    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    return registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )


def test_french_casebook_list_shows_the_investigators_patient(client_for, registered):
    page = _french(client_for("investigator")).get("/crfs/").content.decode()
    assert registered.patient.research_id in page
    assert "Requêtes ouvertes" in page
    assert "Aucun cahier d'observation que vous pouvez consulter." not in page


@pytest.mark.parametrize("persona", ["outsider", "monitor_other", "partner_investigator"])
def test_french_casebooks_show_only_what_the_persona_may_see(client_for, registered, persona):
    """Translation changes the words, never the scope: no patient of another site or study."""
    response = _french(client_for(persona)).get("/crfs/")
    if response.status_code == 200:
        page = response.content.decode()
        assert registered.patient.research_id not in page
        assert "Aucun cahier d'observation que vous pouvez consulter." in page
    else:
        assert response.status_code in (302, 403)


def test_words_with_two_meanings_are_told_apart_by_context():
    from django.utils.translation import gettext, override

    from oncotrials.apps.mtb.models import MeetingStatus

    with override("fr"):
        assert str(MeetingStatus.HELD.label) == "Tenue"  # a meeting that took place
        assert gettext("Held") == "Réservé"  # a slot held for a patient


# ----------------------------------------------------------------- the services' own refusals

SRC = Path(__file__).parents[2] / "src/oncotrials"
_CALLS = {"gettext": 1, "gettext_lazy": 1, "_": 1, "ngettext": 2, "pgettext": 2}


# The apps whose every module (views, forms, API, selectors, services...) words its refusals
# through gettext with a literal message: a computed msgid cannot be extracted nor translated.
_LITERAL_APPS = (
    "crfs",
    "trials",
    "operations",
    "dosing",
    "tumours",
    "audit",
    "genomics",
    "exports",
    "accounts",
    "subjects",
    "safety",
    "biobank",
    "mtb",
    "matching",
    "jobs",
)


def _messages(paths: list[Path]) -> list[tuple[str, str | None, str]]:
    """Every message the modules at ``paths`` pass to gettext, as (msgid, context, where); a
    msgid that is not a literal is None."""
    import ast

    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in _CALLS or not node.args:
                continue
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            if node.func.id == "pgettext":
                found.append((args[1], args[0], where))
            else:
                found.append((args[0], None, where))
                if node.func.id == "ngettext":
                    found.append((args[1], None, where))
    return found


def _service_messages() -> list[tuple[str, str | None, str]]:
    """Every message the services (``apps/*/services*.py``) pass to gettext."""
    return _messages(sorted(SRC.glob("apps/*/services*.py")))


def _app_messages() -> list[tuple[str, str | None, str]]:
    """Every message any module of an app passes to gettext (migrations aside)."""
    paths = [p for p in sorted(SRC.glob("apps/*/*.py")) if p.parent.name != "migrations"]
    return _messages(paths)


def _missing_french(entries, messages) -> list[str]:
    french = {(e.context, e.msgid): e for e in entries}
    french.update({(e.context, e.msgid_plural): e for e in entries if e.msgid_plural})
    return [
        f"{where}: {msgid!r}"
        for msgid, ctx, where in messages
        if isinstance(msgid, str) and not all((french.get((ctx, msgid)) or Entry(0)).msgstr or [""])
    ]


def test_every_message_the_services_translate_has_its_french(entries):
    messages = _service_messages()
    assert len(messages) > 100
    not_literal = [where for msgid, _ctx, where in messages if not isinstance(msgid, str)]
    assert not_literal == [], "gettext needs a literal with named placeholders"
    assert _missing_french(entries, messages) == []


def test_every_message_of_the_apps_views_forms_and_api_has_its_french(entries):
    """Not only the services: the refusals of the API, the forms, the views, the selectors (a
    record "that you may see") and the planners are shown to users too."""
    messages = _app_messages()
    modules = {where.rsplit(":", 1)[0] for _m, _c, where in messages}
    assert {
        "apps/crfs/api.py",
        "apps/trials/selectors.py",
        "apps/operations/placement.py",
    } <= modules
    assert len(messages) > 1200
    not_literal = [
        where
        for msgid, _ctx, where in messages
        if not isinstance(msgid, str) and where.split("/")[1] in _LITERAL_APPS
    ]
    assert not_literal == [], "gettext needs a literal with named placeholders"
    assert _missing_french(entries, messages) == []


def test_the_check_finds_a_message_without_french(tmp_path):
    """The check above fails on a refusal with no entry, or an empty French, and passes a
    translated one."""
    po = tmp_path / "django.po"
    po.write_text(
        'msgid "No query %(query_id)s that you may see."\nmsgstr ""\n\n'
        'msgid "No trial %(trial_id)s that you may see."\n'
        'msgstr "Aucun essai %(trial_id)s que vous puissiez consulter."\n',
        encoding="utf-8",
    )
    messages = [
        ("No such message %(id)s anywhere.", None, "a.py:1"),
        ("No query %(query_id)s that you may see.", None, "b.py:2"),
        ("No trial %(trial_id)s that you may see.", None, "c.py:3"),
    ]
    assert _missing_french(_parse_po(po), messages) == [
        "a.py:1: 'No such message %(id)s anywhere.'",
        "b.py:2: 'No query %(query_id)s that you may see.'",
    ]
    converted = _messages([SRC / "apps" / "crfs" / "api.py"])
    assert ("No lab result %(lab_id)s that you may see.", None) in {
        (m, c) for m, c, _w in converted
    }


def test_a_service_refusal_reads_in_french_beside_its_form(journey, client_for):
    """Screening without a consent in force passes the form and is refused by the service: the
    page says so in French, in the screening form, with what was typed, and writes nothing."""
    c = client_for("nurse")
    base = f"/patients/{journey.patient.pk}/journey"
    post = {"trial": journey.cohort.trial_id, "kind": "screening", "started_on": "2026-11-02"}
    english = c.post(f"{base}/screen/", post).content.decode()
    assert "has no signed consent to" in english
    r = _french(c).post(f"{base}/screen/", post)
    assert r.status_code == 422
    page = r.content.decode()
    form = page.split('data-testid="form-screen"', 1)[1].split("</form>", 1)[0]
    assert f"Le patient {journey.patient.research_id} n’a pas de consentement signé à" in form
    assert "les examens de sélection l’exigent" in form
    assert "has no signed consent" not in form
    assert 'value="2026-11-02"' in form
    assert not journey.patient.screenings.exists()


def test_the_check_reads_every_module_of_the_apps():
    """Not only the services: the selectors, endpoints, views and the core's catalogues too."""
    modules = {where.split(":")[0] for _msgid, _ctx, where in _app_messages()}
    assert {
        "apps/genomics/file_messages.py",
        "apps/genomics/selectors.py",
        "apps/safety/dlt_review.py",
        "apps/matching/engine.py",
        "apps/biobank/selectors_pdx.py",
        "apps/accounts/access.py",
    } <= modules


# --------------------------------------------------------- the core's coded refusals, worded

#: Each core package whose refusals reach users, and the one catalogue (module, name) of the app
#: that words them.
CORE_CATALOGUES = {
    "matching": ("oncotrials.apps.matching.core_messages", "MATCHING_CORE_MESSAGES"),
    "schedule": ("oncotrials.apps.trials.schedule_messages", "SCHEDULE_MESSAGES"),
    "sdtm": ("oncotrials.apps.exports.core_messages", "EXPORT_CORE_MESSAGES"),
    "odm": ("oncotrials.apps.exports.core_messages", "EXPORT_CORE_MESSAGES"),
    "e2b": ("oncotrials.apps.safety.e2b_messages", "E2B_MESSAGES"),
    "accrual": ("oncotrials.apps.operations.accrual_messages", "ACCRUAL_MESSAGES"),
    "labels": ("oncotrials.apps.biobank.label_messages", "LABEL_MESSAGES"),
    "designs": ("oncotrials.apps.dosing.design_messages", "DESIGN_MESSAGES"),
    "crf": ("oncotrials.apps.crfs.core_messages", "CRF_CORE_MESSAGES"),
}
#: What a reason helper (``_fail`` of the criteria language, ``fail`` of the CTML importer) adds
#: to the values it is given: the file, the path in the document and the value received (its
#: ``warn`` adds the file and the path).
_FRAME = {"source", "path", "value"}
_NAMED = re.compile(r"%\((\w+)\)[sd]")


def _core_refusals(paths: list[Path]) -> list[tuple[str, set[str], str]]:
    """Every coded refusal the modules at ``paths`` raise, as (code or reason, the names of the
    values it carries, where). A helper's own body (a reason it passes on) is left out."""
    import ast

    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "Decision":  # a design's decision: ``reason`` is its English text, worded
                continue  # by its reason code (test_french_refusals checks those)
            keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
            names = set(keywords) - {"code", "reason"}
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            reason = keywords.get("reason")
            if reason is not None:
                if isinstance(reason, ast.Constant):
                    frame = _FRAME if name in ("_fail", "fail") else set()
                    if name == "warn":  # a CTML import's warning: the document and the path
                        frame = {"source", "path"}
                    found.append((reason.value, names | frame, where))
                continue
            code = keywords.get("code")
            if name.endswith("Error") and isinstance(code, ast.Constant):
                found.append((code.value, names, where))
    return found


def _catalogue(package: str) -> dict:
    import importlib

    module, name = CORE_CATALOGUES[package]
    return dict(getattr(importlib.import_module(module), name))


def _unworded(package: str) -> list[str]:
    catalogue = _catalogue(package)
    paths = sorted((SRC / "core" / package).rglob("*.py"))
    wrong = []
    for code, names, where in _core_refusals(paths):
        template = catalogue.get(code)
        if template is None:
            wrong.append(f"{where}: {code} has no wording")
            continue
        missing = set(_NAMED.findall(str(template))) - names
        if missing:
            wrong.append(f"{where}: {code} does not carry {sorted(missing)}")
    return wrong


@pytest.mark.parametrize("package", sorted(CORE_CATALOGUES))
def test_every_coded_refusal_of_the_core_is_worded_by_its_app(package):
    """A refusal whose code has no wording, or whose wording names a value the refusal does not
    carry, would reach a French user in English."""
    assert _core_refusals(sorted((SRC / "core" / package).rglob("*.py")))
    assert _unworded(package) == []


def test_the_core_catalogues_are_read_by_the_french_check():
    """Their wordings are gettext literals of the apps, so the check above (every message of
    the apps has its French) covers them."""
    modules = {where.split(":")[0] for _m, _c, where in _app_messages()}
    assert {
        "apps/matching/core_messages.py",
        "apps/trials/schedule_messages.py",
        "apps/exports/core_messages.py",
        "apps/safety/e2b_messages.py",
        "apps/operations/accrual_messages.py",
        "apps/biobank/label_messages.py",
        "apps/crfs/core_messages.py",
    } <= modules


def test_the_wording_check_finds_a_new_code_and_a_missing_value(tmp_path, monkeypatch):
    core = tmp_path / "core" / "labels"
    core.mkdir(parents=True)
    (core / "render.py").write_text(
        "def f(n):\n"
        "    raise ValidationError(f'{n} lines.', code='labels_brand_new', n=str(n))\n"
        "def g(n):\n"
        "    raise ValidationError('Too wide.', code='labels_module_mm_wide')\n"
        "def h(x):\n"
        "    raise _fail('s', 'p', 'expected a list', x, reason='labels_qr_error_correction_l')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    assert _unworded("labels") == [
        "core/labels/render.py:2: labels_brand_new has no wording",
        "core/labels/render.py:4: labels_module_mm_wide does not carry ['module_mm']",
        "core/labels/render.py:6: labels_qr_error_correction_l does not carry ['qr_error']",
    ]
