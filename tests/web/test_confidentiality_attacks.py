"""Confidentiality of the genomics, tumour-board and biobank pages, tried as an attacker would.

The access conformance suite (``test_access_conformance.py``) walks every endpoint with every
persona; here each page and endpoint of the precision-medicine features is tried with the
objects a persona must not reach, and with the figures and texts that no identifier reveals:

- patient PS (main site) is registered in T-MAIN (the monitor's trial, "Drug A") and then in
  T-OTHER (trametinib), with four serial samples (``serial_resistance``);
- patient PB (main site) is registered in T-OTHER only, with a baseline and a progression
  sample (MAP2K1 p.K57N acquired under trametinib), copy-number segments, a germline finding,
  a prior line of therapy and a specimen;
- patient PY (partner site) is registered in T-SHARED, with the same kind of data.

The monitor of T-MAIN sees PS (never what PS did in T-OTHER) and neither PB nor PY; the monitor
of T-OTHER sees PS and PB, never T-MAIN's registration; the partner investigator sees PY only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-42"
MAF_HEADER = (
    "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\t"
    "Mutation_Status\tChromosome\tStart_Position\tEnd_Position\tNCBI_Build\n"
)
SEG_HEADER = "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\ttcn.em\tlcn.em\n"


@dataclass
class World:
    unit: Any
    ps: Any  # main site, T-MAIN then T-OTHER
    pb: Any  # main site, T-OTHER only
    py: Any  # partner site, T-SHARED
    reports: dict[str, list[Any]]  # research id -> reports
    samples: dict[str, list[Any]]
    specimens: dict[str, Any]  # research id -> specimen


def _client(user: Any) -> Any:
    from django.test import Client

    c = Client()
    c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return c


def _user(unit: Any, name: str, role: str, site: Any, trial: Any = None) -> Any:
    from oncotrials.apps.accounts.services import membership_grant, user_create

    user = user_create(username=name, password=PASSWORD)
    membership_grant(user=user, role=role, site=site, trial=trial)
    unit.users[name] = user
    return user


def _patient(site: Any, by: Any, n: int) -> Any:
    from oncotrials.apps.subjects.services import patient_create

    return patient_create(
        site=site,
        by=by,
        family_name=f"Attack{n}",
        given_name="Given",
        birth_date=dt.date(1960, 3, 1),
        hospital_number=f"ATK-{n}",
        sex="F",
        referral_source="department",
        referral_date=dt.date(2026, 1, 5),
        diagnosis="LUAD",
    )


def _two_samples(unit: Any, patient: Any, trial: Any, tmp_path: Path) -> None:
    """A baseline and a progression sample under trametinib in ``trial``: MAP2K1 p.K57N
    acquired; a germline BRCA2 finding; 17p copy-neutral LOH."""
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap
    from serial_resistance import register

    rid = patient.research_id
    rows = [
        ("KRAS", "B1", "p.G12C", "Somatic", "12", 25398285),
        ("BRCA2", "B1", "p.S1982fs", "Germline", "13", 32914438),
        ("KRAS", "B2", "p.G12C", "Somatic", "12", 25398285),
        ("MAP2K1", "B2", "p.K57N", "Somatic", "15", 66727455),
    ]
    maf = tmp_path / f"{rid}.maf"
    maf.write_text(
        MAF_HEADER
        + "".join(
            f"{g}\t{rid}-{s}\tMissense_Mutation\t{p}\t{o}\t{c}\t{pos}\t{pos}\tGRCh37\n"
            for g, s, p, o, c, pos in rows
        )
    )
    pmap = PatientMap.parse(
        "sample_id,research_id,timepoint,collected_on\n"
        f"{rid}-B1,{rid},baseline,2026-02-01\n{rid}-B2,{rid},progression,2026-09-01\n"
    )
    genomics_import(path=maf, by=None, patient_map=pmap)
    seg = tmp_path / f"{rid}_hg19.seg"
    seg.write_text(SEG_HEADER + f"{rid}-B2\t17\t1\t22000000\t900\t-0.05\t2\t0\n")
    genomics_import(path=seg, by=None, patient_map=pmap, assay="FACETS")
    register(unit, patient, trial, "trametinib", dt.date(2026, 3, 1))


def _specimen(unit: Any, patient: Any, registration: Any, label: str) -> Any:
    from oncotrials.apps.biobank.services import specimen_collect
    from oncotrials.apps.subjects.services import consent_form_create, consent_sign

    admin = unit.users["admin"]
    tiers = ["sample_storage", "future_research", "genetic_analysis"]
    form = consent_form_create(
        kind="translational",
        programme=f"Biobank {label}",
        version="1",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
        options=tiers,
    )
    consent_sign(
        patient=patient,
        form=form,
        signed_on=dt.date(2026, 2, 2),
        by=admin,
        options_granted=dict.fromkeys(tiers, True),
    )
    at = dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC)
    return specimen_collect(
        patient=patient,
        registration=registration,
        specimen_type="whole_blood",
        quantity="10",
        unit="mL",
        collected_at=at,
        received_at=at,
        label=label,
        by=admin,
    )


@pytest.fixture
def world(unit: Any, tmp_path: Path) -> World:
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.genomics.models import GenomicReport, Sample
    from oncotrials.apps.subjects.services import prior_line_record
    from serial_resistance import four_samples

    admin = unit.users["admin"]
    ps, pb = _patient(unit.main, admin, 1), _patient(unit.main, admin, 2)
    py = _patient(unit.partner, admin, 3)
    four_samples(unit, ps, tmp_path)  # T-MAIN on Drug A, then T-OTHER on trametinib
    _two_samples(unit, pb, unit.trial_other, tmp_path)
    _two_samples(unit, py, unit.trial_shared, tmp_path)
    for p in (ps, pb, py):
        prior_line_record(
            patient=p,
            line=1,
            agents="carboplatin + pemetrexed",
            setting="metastatic",
            started_on=dt.date(2025, 3, 1),
            ended_on=dt.date(2025, 9, 1),
            stop_reason=f"PLZ-{p.research_id}",
            by=admin,
        )
    specimens = {
        p.research_id: _specimen(unit, p, p.registrations.order_by("pk").last(), f"SPZ-{i}")
        for i, p in enumerate((ps, pb, py))
    }
    _user(unit, "tech_partner", Role.BIOBANK_TECHNICIAN, unit.partner)
    _user(unit, "tech_main", Role.BIOBANK_TECHNICIAN, unit.main)
    _user(unit, "tech_main_t", Role.BIOBANK_TECHNICIAN, unit.main, unit.trial_main)
    _user(unit, "board_partner", Role.TUMOUR_BOARD_COORDINATOR, unit.partner)
    _user(unit, "board_main", Role.TUMOUR_BOARD_COORDINATOR, unit.main)
    return World(
        unit,
        ps,
        pb,
        py,
        {
            p.research_id: list(GenomicReport.objects.filter(sample__patient=p).order_by("pk"))
            for p in (ps, pb, py)
        },
        {
            p.research_id: list(Sample.objects.filter(patient=p).order_by("pk"))
            for p in (ps, pb, py)
        },
        specimens,
    )


def _patient_urls(w: World, patient: Any) -> list[str]:
    """Every page and endpoint of the features under audit that names ``patient`` (or one of
    its reports, samples or specimens)."""
    rid = patient.research_id
    sample = w.samples[rid][-1]
    specimen = w.specimens[rid]
    urls = [
        f"/patients/{patient.pk}/",
        f"/patients/{patient.pk}/serial-samples/",
        f"/genomics/patients/{patient.pk}/",
        f"/genomics/patients/{patient.pk}/resistance/",
        f"/genomics/patients/{patient.pk}/resistance/?drug=trametinib",
        f"/genomics/patients/{patient.pk}/segments.svg?sample={sample.pk}",
        f"/genomics/patients/{patient.pk}/segments.svg?sample={sample.pk}&download=1",
        f"/api/v1/genomics/patients/{patient.pk}/samples",
        f"/api/v1/genomics/patients/{patient.pk}/timeline",
        f"/api/v1/genomics/patients/{patient.pk}/timeline?origin=germline",
        f"/api/v1/genomics/patients/{patient.pk}/segments",
        f"/api/v1/genomics/patients/{patient.pk}/segments?loh=true",
        f"/api/v1/genomics/patients/{patient.pk}/loh",
        f"/api/v1/genomics/patients/{patient.pk}/resistance",
        f"/api/v1/genomics/patients/{patient.pk}/resistance?drug=trametinib",
        f"/biobank/specimens/{specimen.pk}/",
        f"/biobank/specimens/{specimen.pk}/pre-analytics/",
        f"/api/v1/biobank/specimens/{specimen.pk}",
        f"/api/v1/biobank/specimens/{specimen.pk}/pre-analytics",
        f"/api/v1/biobank/specimens/{specimen.pk}/custody",
    ]
    for r in w.reports[rid]:
        urls += [
            f"/genomics/reports/{r.pk}/",
            f"/genomics/reports/{r.pk}/?origin=germline",
            f"/api/v1/genomics/reports/{r.pk}",
            f"/api/v1/genomics/reports/{r.pk}?origin=germline",
        ]
    return urls


# (persona, research ids it must not reach)
OUT_OF_SCOPE = [
    ("monitor", ("pb", "py")),  # monitor of T-MAIN
    ("monitor_other", ("py",)),  # monitor of T-OTHER: PS and PB are its trial's patients
    ("partner_investigator", ("ps", "pb")),
    ("outsider", ("ps", "pb", "py")),
    ("tech_partner", ("ps", "pb")),
    ("tech_main_t", ("pb", "py")),  # a technician limited to T-MAIN
    ("board_partner", ("ps", "pb")),
]


@pytest.mark.parametrize(("persona", "whom"), OUT_OF_SCOPE)
def test_everything_of_a_patient_out_of_scope_is_not_found(
    world: World, persona: str, whom: tuple[str, ...]
) -> None:
    """Pages, htmx partials, API reads and downloads of a patient the persona may not see all
    answer 404, as for an object that does not exist (never 403, which would confirm it)."""
    c = _client(world.unit.users[persona])
    for attr in whom:
        for url in _patient_urls(world, getattr(world, attr)):
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                r = c.get(url, **headers)
                assert r.status_code == 404, f"{persona} GET {url} {headers} -> {r.status_code}"


def _not_found_text(response: Any, ids: list[int]) -> str:
    text = response.content.decode()
    for i in ids:
        text = text.replace(str(i), "<id>")
    return text


@pytest.mark.parametrize(
    "template",
    [
        "/genomics/reports/{}/",
        "/api/v1/genomics/reports/{}",
        "/genomics/patients/{}/",
        "/api/v1/genomics/patients/{}/segments",
        "/api/v1/genomics/patients/{}/loh",
        "/api/v1/genomics/patients/{}/resistance",
        "/biobank/specimens/{}/pre-analytics/",
        "/api/v1/biobank/specimens/{}/pre-analytics",
    ],
)
def test_a_guessed_id_tells_nothing_of_whether_it_exists(world: World, template: str) -> None:
    """The next ids after the last existing one answer exactly as an existing object out of
    scope: same status, same body but for the id."""
    from oncotrials.apps.biobank.models import Specimen
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.subjects.models import Patient

    if "/reports/" in template:
        existing = world.reports[world.pb.research_id][0].pk
        model: Any = GenomicReport
    elif "/specimens/" in template:
        existing, model = world.specimens[world.pb.research_id].pk, Specimen
    else:
        existing, model = world.pb.pk, Patient
    missing = model.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1
    c = _client(world.unit.users["monitor"])
    seen = c.get(template.format(existing))
    unseen = c.get(template.format(missing))
    assert seen.status_code == unseen.status_code == 404
    assert _not_found_text(seen, [existing]) == _not_found_text(unseen, [missing])


def test_segments_of_another_patient_are_not_reached_through_a_visible_one(world: World) -> None:
    """The query filters of a visible patient's segments (``report_id``, ``sample``) and its
    plot's ``sample`` never reach another patient's rows."""
    c = _client(world.unit.users["monitor"])
    ps, pb = world.ps, world.pb
    pb_report = next(r for r in world.reports[pb.research_id] if r.assay == "FACETS")
    pb_sample = world.samples[pb.research_id][-1]
    for query in (f"report_id={pb_report.pk}", f"sample={pb_sample.pk}"):
        r = c.get(f"/api/v1/genomics/patients/{ps.pk}/segments?{query}")
        assert r.status_code == 200
        assert r.json()["items"] == [], query
    plot = c.get(f"/genomics/patients/{ps.pk}/segments.svg?sample={pb_sample.pk}")
    assert plot.status_code == 404


def _texts_of_t_other() -> tuple[str, ...]:
    return ("T-OTHER", "trametinib", "Trametinib")


def test_the_serial_pairs_of_a_shared_patient_show_only_the_viewers_trial(world: World) -> None:
    """PS is registered in T-MAIN (Drug A) and then in T-OTHER (trametinib): the monitor of
    T-MAIN sees PS's serial pairs, each classified under the registrations it may see only,
    on the resistance page, its API and the biobank's serial view; the monitor of T-OTHER never
    sees Drug A's registration."""
    ps = world.ps
    mon = _client(world.unit.users["monitor"])
    urls = (
        f"/genomics/patients/{ps.pk}/resistance/",
        f"/api/v1/genomics/patients/{ps.pk}/resistance",
        f"/patients/{ps.pk}/serial-samples/",
        f"/patients/{ps.pk}/",
    )
    for url in urls:
        r = mon.get(url)
        assert r.status_code == 200, url
        body = r.content.decode()
        for text in _texts_of_t_other():
            assert text not in body, f"the monitor of T-MAIN reads {text!r} on {url}"
    assert "T-MAIN" in mon.get(urls[0]).content.decode()  # its own trial is shown
    # the main site's investigator sees both lines on the same pages (the texts are there)
    inv = _client(world.unit.users["investigator"])
    for url in urls[:3]:
        body = inv.get(url).content.decode()
        assert "trametinib" in body, url
        assert "T-MAIN" in body, url
    other = _client(world.unit.users["monitor_other"])
    for url in urls:
        body = other.get(url).content.decode()
        assert "T-MAIN" not in body, url
        assert "Drug A" not in body, url


def _atlas(client: Any) -> dict[str, Any]:
    r = client.get("/api/v1/genomics/resistance-atlas")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("persona", "evaluated", "hidden"),
    [
        # PS only; PS's second line (trametinib in T-OTHER) is not the monitor's to see
        ("monitor", {"ps"}, ("pb", "py")),
        ("monitor_other", {"ps", "pb"}, ("py",)),
        ("partner_investigator", {"py"}, ("ps", "pb")),
        ("investigator", {"ps", "pb"}, ("py",)),
        ("outsider", set(), ("ps", "pb", "py")),
    ],
)
def test_the_atlas_counts_and_names_only_the_patients_in_scope(
    world: World, persona: str, evaluated: set[str], hidden: tuple[str, ...]
) -> None:
    """The atlas per drug (API and page) counts patients per mechanism and gene and lists them:
    neither the counts nor the lists include a patient, or a therapy, the viewer may not see."""
    c = _client(world.unit.users[persona])
    atlas = _atlas(c)
    assert atlas["patients_evaluated"] == len(evaluated)
    named = {p for row in atlas["by_drug"] for p in row["patients"]}
    assert named <= {getattr(world, a).research_id for a in evaluated}
    # every count is the number of distinct visible patients listed under that gene
    for row in atlas["rows"]:
        listed = {
            p
            for r in atlas["by_drug"]
            if (r["mechanism"], r["gene"]) == (row["mechanism"], row["gene"])
            for p in r["patients"]
        }
        assert row["patients"] == len(listed), row
    drugs = {r["drug"].lower() for r in atlas["by_drug"]}
    if persona == "monitor":
        assert "trametinib" not in drugs  # given to PS in T-OTHER only
        assert all("T-OTHER" not in s for s in atlas["skipped"])
    page = c.get("/genomics/resistance/").content.decode()
    api_text = json.dumps(atlas)
    for attr in hidden:
        rid = getattr(world, attr).research_id
        assert rid not in api_text, (persona, rid)
        assert rid not in page, (persona, rid)
    # filtering by a drug never widens the set
    assert _client(world.unit.users[persona]).get(
        "/api/v1/genomics/resistance-atlas?drug=trametinib"
    ).json()["patients_evaluated"] <= len(evaluated)


def test_the_atlas_links_only_board_cases_the_viewer_may_open(world: World) -> None:
    """The atlas links a patient to its latest tumour-board case the viewer may see: the
    partner board's coordinator gets no link to the main board's case."""
    from oncotrials.apps.mtb.services import case_add, meeting_create, meeting_update

    admin = world.unit.users["admin"]
    links = {}
    for site, patient in ((world.unit.main, world.pb), (world.unit.partner, world.py)):
        meeting = meeting_create(site=site, held_on=dt.date(2026, 10, 1), by=admin, title="MTB")
        meeting = meeting_update(meeting=meeting, version=meeting.version, status="held", by=admin)
        case = case_add(meeting=meeting, patient=patient, reason="Progression", by=admin)
        links[site.code] = f"/mtb/cases/{case.pk}/"
    partner_page = _client(world.unit.users["board_partner"]).get("/genomics/resistance/")
    html = partner_page.content.decode()
    assert links["partner"] in html
    assert links["main"] not in html
    main_html = _client(world.unit.users["board_main"]).get("/genomics/resistance/").content
    assert links["main"] in main_html.decode()
    assert links["partner"] not in main_html.decode()
    # and the case itself is not found across boards, page and API
    for url in (links["main"], links["main"].replace("/mtb/", "/api/v1/mtb/").rstrip("/")):
        assert _client(world.unit.users["board_partner"]).get(url).status_code == 404, url


def _pre_analytics_state() -> tuple[Any, ...]:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.biobank.models import Specimen

    return (
        AuditEvent.objects.count(),
        tuple(Specimen.objects.order_by("pk").values_list("version", "centrifuge_g")),
    )


SPIN = {"centrifugations": 1, "centrifuge_temp_c": 4, "centrifuge_g": 1600, "centrifuge_min": 10}


@pytest.mark.parametrize(
    ("persona", "whom", "status"),
    [
        ("tech_partner", "pb", 404),  # another site's technician
        ("tech_main_t", "pb", 404),  # the main site's technician limited to another trial
        ("monitor_other", "pb", 403),  # sees the specimen of its trial, read-only
        ("monitor", "pb", 404),
        ("partner_investigator", "pb", 404),
    ],
)
def test_pre_analytics_are_written_by_the_specimens_site_and_trial_only(
    world: World, persona: str, whom: str, status: int
) -> None:
    specimen = world.specimens[getattr(world, whom).research_id]
    c = _client(world.unit.users[persona])
    before = _pre_analytics_state()
    api = c.patch(
        f"/api/v1/biobank/specimens/{specimen.pk}/pre-analytics",
        json.dumps({"values": SPIN, "reason": ""}),
        content_type="application/json",
    )
    page = c.post(
        f"/biobank/specimens/{specimen.pk}/pre-analytics/",
        {**{k: str(v) for k, v in SPIN.items()}, "reason": ""},
    )
    assert (api.status_code, page.status_code) == (status, status)
    assert _pre_analytics_state() == before
    # the site's technician may (the rule is the specimen's, not the role's alone)
    ok = _client(world.unit.users["tech_main"]).patch(
        f"/api/v1/biobank/specimens/{specimen.pk}/pre-analytics",
        json.dumps({"values": SPIN}),
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content


def test_new_forms_and_writes_need_the_csrf_token(world: World) -> None:
    """A session without the CSRF token cannot record pre-analytics (page and API) or a prior
    line of therapy, even as the technician or the investigator who may."""
    from django.test import Client

    from oncotrials.apps.subjects.models import PriorTherapyLine

    specimen = world.specimens[world.pb.research_id]
    tech = Client(enforce_csrf_checks=True)
    tech.force_login(world.unit.users["tech_main"], "django.contrib.auth.backends.ModelBackend")
    inv = Client(enforce_csrf_checks=True)
    inv.force_login(world.unit.users["investigator"], "django.contrib.auth.backends.ModelBackend")
    before = (_pre_analytics_state(), PriorTherapyLine.objects.count())
    api = tech.patch(
        f"/api/v1/biobank/specimens/{specimen.pk}/pre-analytics",
        json.dumps({"values": SPIN}),
        content_type="application/json",
    )
    assert api.status_code == 403
    page = tech.post(
        f"/biobank/specimens/{specimen.pk}/pre-analytics/", {k: str(v) for k, v in SPIN.items()}
    )
    assert page.status_code == 403
    line = inv.post(
        f"/patients/{world.pb.pk}/journey/prior-line/",
        {
            "prior-line-line": "2",
            "prior-line-agents": "docetaxel",
            "prior-line-setting": "metastatic",
            "prior-line-started_on": "2025-10-01",
        },
    )
    assert line.status_code == 403
    assert (_pre_analytics_state(), PriorTherapyLine.objects.count()) == before
    # the page that carries the form gives its token
    form = _client(world.unit.users["tech_main"]).get(
        f"/biobank/specimens/{specimen.pk}/pre-analytics/"
    )
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', form.content.decode())


def test_a_specimens_timepoint_reads_only_the_registrations_the_viewer_may_see(
    world: World,
) -> None:
    """PS's specimen was collected under T-OTHER, whose treatment had not started; PS's first
    dose was given in T-MAIN. The main site's staff see the timepoint counted from T-MAIN's
    first dose (the patient's latest treatment start), but the monitor of T-OTHER must not:
    neither the label counted from T-MAIN's dates nor T-MAIN's broken schedule warning."""
    from oncotrials.apps.trials.models import VisitScheduleDefinition

    # T-MAIN's stored schedule no longer parses (an older format): the biobank pages warn.
    VisitScheduleDefinition.objects.create(
        trial=world.unit.trial_main, document={"visits": "not a list"}
    )
    specimen = world.specimens[world.ps.research_id]
    urls = (
        f"/biobank/specimens/{specimen.pk}/",
        f"/api/v1/biobank/specimens/{specimen.pk}",
        f"/api/v1/biobank/specimens?patient_id={world.ps.pk}",
        "/biobank/",
        f"/patients/{world.ps.pk}/serial-samples/",
    )
    staff = _client(world.unit.users["tech_main"])
    shown = staff.get(f"/api/v1/biobank/specimens/{specimen.pk}").json()["timepoint"]
    assert shown not in ("", "Unknown")  # counted from T-MAIN's first dose
    assert "T-MAIN" in staff.get(urls[0]).content.decode()  # the warning names it
    monitor = _client(world.unit.users["monitor_other"])
    for url in urls:
        r = monitor.get(url)
        assert r.status_code == 200, url
        body = r.content.decode()
        assert "T-MAIN" not in body, url
        assert shown not in body, f"{url} shows the timepoint counted from T-MAIN: {shown}"
    assert monitor.get(urls[1]).json()["timepoint"] == "Unknown"


def test_serial_pairs_never_unblind_a_randomised_patient(unit: Any, tmp_path: Path) -> None:
    """In a blinded randomised trial the arm's agent is the arm: the therapy of a serial pair,
    the atlas per drug, the tumour-board case and the biobank's serial view must not name it to
    a role that may not know the arm (the main site's investigator), while the administrator
    sees it. The sample's own recorded therapy is not blinded data and still classifies."""
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.subjects.services import randomisation_scheme_create
    from oncotrials.apps.trials.services import cohort_create, dose_level_create, trial_create
    from oncotrials.core.genomics.normalised import PatientMap

    admin = unit.users["admin"]
    trial = trial_create(
        data={
            "protocol_code": "T-RAND",
            "title": "Randomised",
            "sponsor": "Sponsor",
            "sponsor_type": "industry",
            "phase": "II",
            "modality": "drug",
            "tumour_types": ["NSCLC"],
            "targets": ["KRAS G12C"],
        },
        sites=[unit.main],
        by=admin,
    )
    arms = {}
    for code, agent in (("ARM-X", "sotorasib"), ("ARM-Y", "docetaxel")):
        arms[code] = cohort_create(
            trial=trial, code=code, name=f"Arm {code}", kind="randomised_arm", by=admin
        )
        dose_level_create(cohort=arms[code], level=1, agent=agent, dose="1", unit="mg", by=admin)
    randomisation_scheme_create(
        trial=trial,
        method="blocks",
        arms={"ARM-X": 1, "ARM-Y": 1},
        block_sizes=[2],
        blinded=True,
        by=admin,
        list_size=4,
    )
    patient = _patient(unit.main, admin, 9)
    rid = patient.research_id
    # Test set-up: the patient allocated to ARM-X (as randomise records it).
    Registration.objects.create(
        patient=patient,
        trial=trial,
        cohort=arms["ARM-X"],
        dose_level=arms["ARM-X"].dose_levels.get(),
        registered_on=dt.date(2026, 3, 1),
        registered_by=admin,
        status_date=dt.date(2026, 3, 1),
    )
    maf = tmp_path / "rand.maf"
    maf.write_text(
        MAF_HEADER
        + f"KRAS\t{rid}-R1\tMissense_Mutation\tp.G12C\tSomatic\t12\t25398285\t25398285\tGRCh37\n"
        + f"KRAS\t{rid}-R2\tMissense_Mutation\tp.G12C\tSomatic\t12\t25398285\t25398285\tGRCh37\n"
        + f"KRAS\t{rid}-R2\tMissense_Mutation\tp.Y96D\tSomatic\t12\t25378562\t25378562\tGRCh37\n"
    )
    pmap = PatientMap.parse(
        "sample_id,research_id,timepoint,collected_on\n"
        f"{rid}-R1,{rid},baseline,2026-02-01\n{rid}-R2,{rid},progression,2026-09-01\n"
    )
    genomics_import(path=maf, by=None, patient_map=pmap)
    urls = (
        f"/genomics/patients/{patient.pk}/resistance/",
        f"/api/v1/genomics/patients/{patient.pk}/resistance",
        f"/patients/{patient.pk}/serial-samples/",
        "/genomics/resistance/",
        "/api/v1/genomics/resistance-atlas",
    )
    unblinded = _client(admin)
    assert "sotorasib" in unblinded.get(urls[1]).content.decode()  # the arm's agent
    blinded = _client(unit.users["investigator"])
    for url in urls:
        r = blinded.get(url)
        assert r.status_code in (200, 422), url
        body = r.content.decode()
        for text in ("sotorasib", "Sotorasib", "ARM-X", "Arm ARM-X"):
            assert text not in body, f"{url} names {text!r} to a blinded investigator"
    # the pair says why it is not classified, and a drug given by hand still classifies it
    assert "is blinded to your role" in blinded.get(urls[1]).content.decode()
    named = blinded.get(urls[1] + "?drug=sotorasib").json()
    assert [a["gene"] for a in named["acquired"]] == ["KRAS"]
