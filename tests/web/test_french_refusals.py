"""The refusals of the services, selectors and endpoints read in French for a French user.

One refusal per app, asked twice: without a language choice it stays the English the rest of
the suite matches, and with the French locale it is the French of the catalogue, values in place.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src/oncotrials"

#: The apps whose user-facing errors go through gettext (see test_french_catalogue for the
#: French of every message).
TRANSLATED_APPS = (
    "accounts",
    "biobank",
    "crfs",
    "dosing",
    "exports",
    "genomics",
    "jobs",
    "matching",
    "mtb",
    "operations",
    "safety",
    "subjects",
    "trials",
    "tumours",
)
#: Errors meant for programmers, not users: a misuse of an internal API.
FOR_PROGRAMMERS = {
    "apps/accounts/prepared.py",  # a prepared read used wrongly
    "apps/crfs/checks.py",  # Django system checks, read by the operator at start-up
    "apps/crfs/records.py",  # a model without a version field declared signable
    "apps/accounts/access.py:access_target",  # an object without access_target()
}


def _english_errors(path: Path) -> list[str]:
    """Error messages written as bare text (a literal or an f-string) instead of gettext."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if not (name.endswith("Error") or name in ("add_error", "HttpError")):
            continue
        args = node.args[1:2] if name in ("add_error", "HttpError") else node.args[:1]
        args += [k.value for k in node.keywords if k.arg == "message"]
        for arg in args:
            text = isinstance(arg, ast.JoinedStr) or (
                isinstance(arg, ast.Constant) and isinstance(arg.value, str) and " " in arg.value
            )
            if text:
                source = ast.unparse(arg)
                if "access_target" in source and path.name == "access.py":
                    continue
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: {source[:80]}")
    return found


def test_the_translated_apps_raise_no_bare_english():
    left = []
    for app in TRANSLATED_APPS:
        for path in sorted((SRC / "apps" / app).glob("*.py")):
            if str(path.relative_to(SRC)) not in FOR_PROGRAMMERS:
                left += _english_errors(path)
    assert left == [], "wrap these messages in gettext, with their French in django.po"


#: The core's packages whose refusals reach users through an app that words them (see
#: test_french_catalogue for the wording of every code): each refusal carries a stable code (and a
#: ``reason`` where one code covers several wordings) with the values it names, never bare text.
CODED_CORE = ("accrual", "crf", "designs", "e2b", "labels", "matching", "odm", "schedule", "sdtm")
#: Exceptions of Python itself: a misuse of an internal API (a value of a type no cut can hold).
_BUILTIN_ERRORS = {"TypeError", "ValueError", "KeyError", "RuntimeError", "AssertionError"}
#: Helpers that build a coded refusal (or a CTML import's warning, or a CRF edit-check finding or
#: declaration problem) from a wording and its reason.
_REASON_HELPERS = {"_fail", "fail", "warn", "_issue", "_problem"}
#: The CRF core's findings: built through ``_issue`` / ``_problem`` (with a reason), never with
#: bare text (the schedule's own ``Problem`` is worded by its code).
_FINDINGS = {"Issue", "Problem"}


def _uncoded_core_errors(path: Path) -> list[str]:
    """Refusals of a core module raised with bare text and no code (or no reason)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        keywords = {k.arg for k in node.keywords}
        if name in _REASON_HELPERS:
            if "reason" not in keywords:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: {name} without reason=")
            continue
        if name in _FINDINGS and "crf" in path.parent.parts:
            for arg in node.args:
                if isinstance(arg, ast.JoinedStr) or (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and " " in arg.value
                ):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}: {name} with bare text")
                    break
            continue
        if not name.endswith("Error") or name in _BUILTIN_ERRORS or not node.args:
            continue
        arg = node.args[0]
        text = isinstance(arg, ast.JoinedStr) or (
            isinstance(arg, ast.Constant) and isinstance(arg.value, str) and " " in arg.value
        )
        if text and "code" not in keywords:
            found.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(arg)[:80]}")
    return found


def test_the_core_raises_coded_refusals_only():
    left = []
    for package in CODED_CORE:
        for path in sorted((SRC / "core" / package).rglob("*.py")):
            left += _uncoded_core_errors(path)
    assert left == [], "give these refusals a code and their values, worded in the app"


def test_the_core_check_finds_a_refusal_without_code(tmp_path):
    (tmp_path / "core" / "crf").mkdir(parents=True)
    module = tmp_path / "core" / "crf" / "reader.py"
    module.write_text(
        "def f(x):\n"
        "    raise ValidationError(f'line {x}: the cell is empty.')\n"
        "def g(x):\n"
        "    raise ValidationError(f'line {x}: empty.', code='sdtm_empty', line=str(x))\n"
        "def h(x):\n"
        "    raise _fail('s', 'p', 'expected a list', x)\n"
        "def i(x):\n"
        "    raise _fail('s', 'p', 'expected a list', x, reason='criteria_list')\n"
        "def j(x):\n"
        "    raise TypeError(f'cannot store a {x}')\n"
        "def k(f):\n"
        "    return Issue(f.name, 'required', f'{f.title} is required.')\n"
        "def m(f):\n"
        "    return _issue(f.name, 'required', 'x', reason='crf_required', title=f.title)\n"
        "def n(f):\n"
        "    return _problem('E103', f'Form {f}: bad.', form=f)\n",
        encoding="utf-8",
    )
    global SRC
    saved, SRC = SRC, tmp_path
    try:
        assert [line.split(":")[1] for line in _uncoded_core_errors(module)] == [
            "2",
            "6",
            "12",
            "16",
        ]
    finally:
        SRC = saved


def test_the_check_finds_bare_english(tmp_path):
    module = tmp_path / "services.py"
    module.write_text(
        "def f(x):\n"
        "    raise ValidationError(f'No sample {x} that you may see.')\n"
        "def g(x):\n"
        "    raise NotFoundError(gettext('No sample %(x)s.') % {'x': x})\n",
        encoding="utf-8",
    )
    global SRC
    saved, SRC = SRC, tmp_path
    try:
        assert [line.split(":")[1] for line in _english_errors(module)] == ["2"]
    finally:
        SRC = saved


# ------------------------------------------------------------------ one refusal per app, live


def _language(client, french: bool) -> None:
    """The language a user picks (the language cookie); none is English."""
    if french:
        client.cookies["django_language"] = "fr"
    else:
        client.cookies.pop("django_language", None)


def _answer(client, method: str, url: str, body: dict | None, french: bool):
    _language(client, french)
    if method == "get":
        return client.get(url)
    return client.generic(
        method.upper(), url, json.dumps(body or {}), content_type="application/json"
    )


CASES = [
    # app, persona, method, url, body, status, english, french
    (
        "accounts",
        "investigator",
        "post",
        "/api/v1/tokens",
        {"name": " ", "scope": "read"},
        422,
        "A token needs a name (what it is for).",
        "Un jeton doit avoir un nom (ce à quoi il sert).",
    ),
    (
        "subjects",
        "investigator",
        "get",
        "/api/v1/patients/987654",
        None,
        404,
        "No patient 987654 that you may see.",
        "Aucun patient 987654 que vous puissiez consulter.",
    ),
    (
        "safety",
        "investigator",
        "get",
        "/api/v1/safety/adverse-events/987654",
        None,
        404,
        "No adverse event 987654 that you may see.",
        "Aucun événement indésirable 987654 que vous puissiez consulter.",
    ),
    (
        "biobank",
        "investigator",
        "get",
        "/api/v1/biobank/specimens/987654",
        None,
        404,
        "No specimen 987654 that you may see.",
        "Aucun échantillon 987654 que vous puissiez consulter.",
    ),
    (
        "mtb",
        "investigator",
        "get",
        "/api/v1/mtb/meetings/987654",
        None,
        404,
        "No tumour-board meeting 987654 that you may see.",
        "Aucune réunion de RCP 987654 que vous puissiez consulter.",
    ),
    (
        "genomics",
        "investigator",
        "get",
        "/api/v1/genomics/cohort?gene=KRAS&tumour=NOTACODE",
        None,
        404,
        "tumour 'NOTACODE' is not an OncoTree code (e.g. NSCLC, LUAD, BRCA).",
        "tumour 'NOTACODE' n’est pas un code OncoTree (par ex. NSCLC, LUAD, BRCA).",
    ),
    (
        "exports",
        "investigator",
        "get",
        "/api/v1/exports/cuts/987654",
        None,
        404,
        "No data cut 987654 that you may see.",
        "Aucun gel de données 987654 que vous puissiez consulter.",
    ),
    (
        "matching",
        "monitor",
        "get",
        "/api/v1/matching/trials/{trial_main}",
        None,
        403,
        "Trial matching is for the unit's clinical and tumour-board staff",
        "L’appariement aux essais est réservé aux équipes cliniques et de RCP de l’unité",
    ),
]


@pytest.mark.parametrize(
    ("persona", "method", "url", "body", "status", "english", "french"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_refusal_reads_in_french_and_stays_english_otherwise(
    client_for, unit, persona, method, url, body, status, english, french
):
    url = url.format(trial_main=unit.trial_main.pk)
    client = client_for(persona)
    plain = _answer(client, method, url, body, french=False)
    assert plain.status_code == status, plain.content
    assert english in plain.json()["message"]
    answer = _answer(client, method, url, body, french=True)
    assert answer.status_code == status
    message = answer.json()["message"]
    assert french in message
    assert english not in message
    assert answer.json()["code"] == plain.json()["code"]


def test_a_role_refusal_names_the_action_and_the_roles_in_french(client, unit):
    """The access module's refusal: the action and the roles are words of the user's language."""
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    vigilance = user_create(username="vigilance", password="a-long-test-password-42")
    membership_grant(user=vigilance, role=Role.PHARMACOVIGILANCE, site=unit.main)
    client.force_login(vigilance, backend="django.contrib.auth.backends.ModelBackend")
    body = {
        "site": "main",
        "family_name": "Petit",
        "given_name": "Anne",
        "birth_date": "1970-01-01",
        "hospital_number": "H-9999",
        "sex": "F",
        "referral_source": "tumour_board",
        "referral_date": "2026-10-01",
    }
    plain = _answer(client, "post", "/api/v1/patients", body, french=False)
    assert plain.status_code == 403, plain.content
    assert plain.json()["message"].startswith(
        "Your role (pharmacovigilance) does not allow you to record the patient journey"
    )
    answer = _answer(client, "post", "/api/v1/patients", body, french=True)
    assert answer.status_code == 403
    message = answer.json()["message"]
    assert message.startswith("Votre rôle (pharmacovigilance) ne permet pas l’action « ")
    assert "enregistrer le parcours du patient" in message
    assert "investigateur" in message
    assert "does not allow" not in message


def test_a_job_refusal_reads_in_french(db):
    """Jobs are submitted from the command line (in English) and from the services; the text
    follows the active language like the others."""
    from django.utils.translation import override

    from oncotrials.apps.jobs.services import job_run
    from oncotrials.core.errors import NotFoundError

    with pytest.raises(NotFoundError, match=r"^No job 987654\.$"):
        job_run(987654)
    with override("fr"), pytest.raises(NotFoundError, match=r"^Aucune tâche 987654\.$"):
        job_run(987654)


# ------------------------------------------------------- a genomic file's problems, located

MAF_HEADER = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\n"


def _upload(client, content: str, french: bool):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _language(client, french)
    return client.post(
        "/genomics/upload/",
        {"file": SimpleUploadedFile("run7.maf", content.encode())},
        HTTP_HX_REQUEST="true",
    )


def test_the_problems_of_an_uploaded_file_read_in_french_with_their_place(client_for):
    """The reader's problems keep file, line and field; the words around them are French, and
    nothing is imported."""
    from oncotrials.apps.genomics.models import GenomicReport

    content = (
        MAF_HEADER + "KRAS\tS1\tMissense_Mutation\tp.G12C\textra\n\nTP53\tS1\tSilent\tp.R213=\n"
    )
    client = client_for("datamanager")
    english = _upload(client, content, french=False)
    assert english.status_code == 422
    page = english.content.decode()
    assert (
        "run7.maf, line 2: the line has 5 tab-separated fields but the header has 4 "
        "(extra fields). (1 more error in the file)"
    ) in page
    assert "run7.maf, line 3: the line is empty; remove blank lines inside the table." in page
    french = _upload(client, content, french=True)
    assert french.status_code == 422
    page = french.content.decode()
    assert (
        "run7.maf, ligne 2 : la ligne compte 5 champs séparés par des tabulations mais "
        "l’en-tête en compte 4 (champs en trop). (1 autre erreur dans le fichier)"
    ) in page
    assert (
        "run7.maf, ligne 3 : la ligne est vide ; supprimez les lignes vides à l’intérieur du "
        "tableau."
    ) in page
    assert "tab-separated" not in page
    assert not GenomicReport.objects.exists()


def test_a_duplicated_column_is_named_in_french_through_the_api(client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (
        MAF_HEADER.strip() + "\tHugo_Symbol\nKRAS\tS1\tMissense_Mutation\tp.G12C\tKRAS\n"
    ).encode()
    client = client_for("datamanager")
    answers = []
    for french in (False, True):
        _language(client, french)
        answers.append(
            client.post(
                "/api/v1/genomics/imports", {"file": SimpleUploadedFile("dup.maf", content)}
            )
        )
    english, french = (a.json() for a in answers)
    assert english["message"] == (
        "dup.maf, line 1, field Hugo_Symbol: column 'Hugo_Symbol' appears twice in the header."
    )
    assert french["message"] == (
        "dup.maf, ligne 1, champ Hugo_Symbol : la colonne 'Hugo_Symbol' figure deux fois dans "
        "l’en-tête."
    )
    assert french["extra"]["issues"] == [french["message"]]
    assert (french["code"], french["extra"]["line"], french["extra"]["field"]) == (
        english["code"],
        1,
        "Hugo_Symbol",
    )


def test_a_patient_map_refusal_reads_in_french(client_for):
    """The core's coded refusal of a patient map, worded by the genomics app."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for("datamanager")
    pages = []
    for french in (False, True):
        _language(client, french)
        pages.append(
            client.post(
                "/genomics/upload/",
                {
                    "file": SimpleUploadedFile("run8.maf", b"x"),
                    "patient_map": SimpleUploadedFile("m.csv", b"sample_id,research_id\nS1,\n"),
                },
                HTTP_HX_REQUEST="true",
            )
        )
    english, french = (p.content.decode() for p in pages)
    assert "patient map line 2: research_id and a sample_id or patient_id are required." in english
    assert (
        "correspondance patients ligne 2 : research_id et un sample_id ou un patient_id sont "
        "obligatoires."
    ) in french
    assert "are required" not in french


def test_the_readers_notices_read_in_french(tmp_path):
    """A notice does not stop the import; the result page lists it in the user's language."""
    from django.utils.translation import override

    from oncotrials.apps.genomics.services import _notices_translated
    from oncotrials.core.genomics.reading import IMPORTABLE, read_any

    maf = tmp_path / "np.maf"
    maf.write_text("Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\nKRAS\tS1\tSilent\n")
    parsed = read_any(maf, accept=IMPORTABLE).normalised()
    english = "np.maf, line 1: no protein-change column (HGVSp_Short, HGVSp, Protein_Change or "
    assert parsed.notices[0].startswith(english)
    assert _notices_translated(parsed)[0].startswith(english)
    with override("fr"):
        french = _notices_translated(parsed)
    assert french[0] == (
        "np.maf, ligne 1 : pas de colonne de changement protéique (HGVSp_Short, HGVSp, "
        "Protein_Change ou Amino_Acid_Change) ; les changements protéiques seront vides."
    )
    assert len(french) == len(parsed.notices)


# ------------------------------------------- the design engine: coded refusals, worded once

#: Exceptions of Python itself in the design engine: an internal invariant, not a refusal.
_INTERNAL = {"AssertionError", "KeyError", "RuntimeError", "ValueError", "TypeError"}


def _design_refusals(path: Path) -> list[tuple[ast.Call, str]]:
    """Every error the module at ``path`` raises on purpose, with where it is."""
    return [
        (node, f"{path.relative_to(SRC)}:{node.lineno}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and (name := getattr(node.func, "id", getattr(node.func, "attr", ""))).endswith("Error")
        and name not in _INTERNAL
    ]


def _template_of(call: ast.Call) -> str | None:
    """The gettext template the engine's English text stands for: each ``{value}`` of its
    f-string becomes the ``%(name)s`` of the keyword that carries the same value (``repr`` for
    ``!r``, the formatted text for a format spec); None when a value is carried by none."""
    carried = {ast.unparse(k.value): k.arg for k in call.keywords if k.arg}
    text = call.args[0] if call.args else None
    if isinstance(text, ast.Constant) and isinstance(text.value, str):
        return text.value.replace("%", "%%")
    if not isinstance(text, ast.JoinedStr):
        return None
    out = []
    for part in text.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value).replace("%", "%%"))
            continue
        assert isinstance(part, ast.FormattedValue)
        value = ast.unparse(part.value)
        if part.conversion == ord("r"):
            value = f"repr({value})"
        elif part.format_spec is not None:
            value = ast.unparse(
                ast.JoinedStr([ast.FormattedValue(part.value, -1, part.format_spec)])
            )
        name = carried.get(value) or carried.get(f"str({value})")
        if name is None:
            return None
        out.append(f"%({name})s")
    return "".join(out)


def _design_engine_problems(catalogue) -> list[str]:
    from django.utils.translation import override

    problems = []
    for path in sorted((SRC / "core" / "designs").glob("*.py")):
        for call, where in _design_refusals(path):
            code = next((k.value for k in call.keywords if k.arg == "code"), None)
            if not isinstance(code, ast.Constant):
                problems.append(f"{where}: no code")
            elif code.value not in catalogue:
                problems.append(f"{where}: {code.value} has no wording")
            else:
                with override("en"):
                    english = str(catalogue[code.value])
                if _template_of(call) != english:
                    problems.append(f"{where}: {code.value} does not say what its wording says")
    return problems


def test_the_design_engine_raises_only_coded_refusals_its_app_words():
    """Every refusal of the dose-finding engine has a code, the escalation app words that code
    (in one catalogue, with French in django.po), and in English the wording is the engine's own
    text with the same values: a new uncoded refusal, or one whose text drifts, fails here."""
    from oncotrials.apps.dosing.design_messages import DESIGN_MESSAGES

    assert len(DESIGN_MESSAGES) > 100
    assert _design_engine_problems(DESIGN_MESSAGES) == []


def test_the_design_engine_check_finds_an_uncoded_or_drifted_refusal(tmp_path):
    designs = tmp_path / "core" / "designs"
    designs.mkdir(parents=True)
    (designs / "new.py").write_text(
        "def f(n):\n"
        "    raise ValidationError(f'{n} doses.')\n"
        "def g(n):\n"
        "    raise ValidationError(f'{n!r} doses.', code='design_doses', n=repr(n))\n"
        "def h(n):\n"
        "    raise ValidationError(f'{n} levels.', code='design_doses', n=n)\n"
        "def i(n):\n"
        "    raise ValidationError(f'{n:g} doses.', code='design_unworded', n=n)\n"
        "def j():\n"
        "    raise AssertionError('unreachable')\n",
        encoding="utf-8",
    )
    global SRC
    saved, SRC = SRC, tmp_path
    try:
        problems = _design_engine_problems({"design_doses": "%(n)s doses."})
    finally:
        SRC = saved
    assert problems == [
        "core/designs/new.py:2: no code",
        "core/designs/new.py:6: design_doses does not say what its wording says",
        "core/designs/new.py:8: design_unworded has no wording",
    ]


@pytest.mark.parametrize(
    ("engine", "app"), [("REASONS", "REASON_MESSAGES"), ("RULES", "RULE_MESSAGES")]
)
def test_every_reason_and_rule_the_designs_explain_by_code_is_worded_by_the_app(engine, app):
    """The reasons of the design's decisions and of its end-of-trial MTD selection, and the
    rules that decided (``core.designs.reasons``), have their wording in the dosing app, the
    same words in English, so a new reason or rule cannot reach a French page in English
    unnoticed."""
    import re

    from django.utils.translation import override

    from oncotrials.apps.dosing import design_messages
    from oncotrials.core.designs import reasons

    engine_texts, app_texts = getattr(reasons, engine), getattr(design_messages, app)
    assert set(app_texts) == set(engine_texts)
    with override("en"):
        drifted = [
            code
            for code, english in engine_texts.items()
            if str(app_texts[code]) != re.sub(r"\{(\w+)\}", r"%(\1)s", english)
        ]
    assert drifted == []


def _rules_given_as_text(path: Path) -> list[str]:
    """The decisions of a design module that give their rule as text (``rule="n=0"``) instead
    of by code (``**ruled("rule_untreated")``): their rule would stay English on a French
    page."""
    return [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "Decision"
        and any(k.arg == "rule" for k in node.keywords)
    ]


def test_the_live_designs_give_their_rule_by_code():
    """Every design a cohort's escalation can run names the rule that decided by a code of
    ``RULES``, which the escalation page words in the reader's language."""
    import inspect

    from oncotrials.core.designs.registry import live_designs

    modules = {
        Path(inspect.getfile(klass))
        for design in live_designs().values()
        for klass in design.__mro__
        if klass.__module__.startswith("oncotrials.core.designs")
    }
    assert len(modules) >= 7
    assert [where for path in sorted(modules) for where in _rules_given_as_text(path)] == []


def test_the_rule_check_finds_a_rule_given_as_text(tmp_path):
    designs = tmp_path / "core" / "designs"
    designs.mkdir(parents=True)
    (designs / "new.py").write_text(
        "def f():\n"
        "    return Decision(Action.STAY, 0, 0, **reason('x'), rule='n=0')\n"
        "def g():\n"
        "    return Decision(Action.STAY, 0, 0, **reason('x'), **ruled('rule_untreated'))\n",
        encoding="utf-8",
    )
    global SRC
    saved, SRC = SRC, tmp_path
    try:
        problems = _rules_given_as_text(designs / "new.py")
    finally:
        SRC = saved
    assert problems == ["core/designs/new.py:2"]
