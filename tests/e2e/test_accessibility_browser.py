"""Accessibility kept by tests (WCAG 2.1 AA): axe-core runs over the unit's main pages, each as
the persona who uses it, in English and in French, and any serious or critical finding fails;
the same pages reflow without horizontal page scrolling at 390 and 320 CSS pixels (only data
tables scroll, inside their own focusable region); and the header works by keyboard alone (skip
link, menu button, language switch).

axe-core is the npm package installed by `make e2e-deps` (into .tools/axe). It is injected into
the page, which needs the Content-Security-Policy bypassed: only these tests' browser contexts
do that (the `page` fixture of the other browser tests keeps the policy and fails on a
violation)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-results"
MISSING_AXE = "axe-core is not installed: `make e2e-deps` installs it into .tools/axe (npm)"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}
WIDTHS = (390, 320)
PASSWORD = "a-long-test-password-42"  # tests/conftest.py


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        # Under CI the accessibility tests must run: no axe-core is a failure, not a skip.
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MISSING_AXE}; CI=true, so the accessibility tests may not be skipped")
        pytest.skip(MISSING_AXE)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def demo(db: Any) -> Iterator[dict[str, list[tuple[str, str]]]]:
    """The demo unit, and the pages to check per persona: (name, path)."""
    from django.urls import reverse

    from oncotrials.apps.demo import demo_load
    from oncotrials.apps.dosing.models import EscalationPlan
    from oncotrials.apps.genomics.models import Mutation
    from oncotrials.apps.matching.engine import reset_matching_cache
    from oncotrials.apps.mtb.models import MtbCase
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.tumours.models import Assessment

    reset_matching_cache()
    demo_load(seed=7)
    plan = EscalationPlan.objects.select_related("cohort").order_by("pk").first()
    assessed = (
        Assessment.objects.filter(registration__patient__site__code="main")
        .select_related("registration")
        .order_by("registration_id")
        .first()
    )
    reg = Registration.objects.filter(
        patient__site__code="main", status="on_treatment", tumour_assessments__isnull=False
    ).first() or (assessed.registration if assessed else None)
    case = MtbCase.objects.filter(meeting__site__code="main").order_by("pk").first()
    gene = Mutation.objects.values_list("gene", flat=True).order_by("gene").first()
    assert plan is not None, "the demo has no escalation plan"
    assert assessed is not None, "the demo has no tumour assessment"
    assert reg is not None, "the demo has no patient on treatment"
    assert case is not None, "the demo has no tumour-board case"
    assert gene, "the demo has no mutation"
    trial_id = plan.cohort.trial_id
    patient_id = assessed.registration.patient_id
    yield {
        "": [("login", reverse("login"))],
        "investigator": [
            ("home", reverse("home")),
            ("portfolio", reverse("portfolio")),
            ("trial page", reverse("trial-detail", args=[trial_id])),
            ("escalation", reverse("escalation-detail", args=[plan.cohort_id])),
            ("patients", reverse("patient-list")),
            ("patient page", reverse("patient-detail", args=[patient_id])),
            ("tumours (RECIST)", reverse("tumours-patient", args=[patient_id])),
            ("efficacy plots", reverse("tumours-efficacy", args=[trial_id])),
        ],
        "nurse": [
            ("work list", reverse("worklists")),
            ("adverse event form", reverse("safety-ae-new", args=[reg.pk])),
            ("new referral", reverse("patient-new")),
        ],
        "pv": [("safety dashboard", reverse("safety-dashboard"))],
        "biologist": [
            ("genomic cohort query", f"{reverse('genomics-cohort')}?gene={gene}"),
            ("oncoprint", f"{reverse('genomics-oncoprint')}?gene={gene}"),
        ],
        "mtb": [
            ("tumour-board case", reverse("mtb-case", args=[case.pk])),
            ("tumour-board meetings", reverse("mtb-meetings")),
        ],
    }
    reset_matching_cache()


def _context(browser: Any, live_server: Any, persona: str, language: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    )
    if persona:
        from oncotrials.apps.demo import DEMO_PASSWORD

        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", persona)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.close()
    return context


def _axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}, {len(v['nodes'])}x: "
        f"{', '.join(n['target'][0] for n in v['nodes'][:3])}) {v['help']}"
        for v in violations
    )


def test_main_pages_pass_axe_in_english_and_french_and_reflow_at_390_and_320_px(
    browser: Any, live_server: Any, demo: dict[str, list[tuple[str, str]]], axe_source: str
) -> None:
    findings: list[str] = []
    overflow: list[str] = []
    checked = 0
    report: dict[str, Any] = {}
    for persona, pages in demo.items():
        for language in ("en", "fr"):
            context = _context(browser, live_server, persona, language)
            page = context.new_page()
            for name, path in pages:
                response = page.goto(f"{live_server.url}{path}")
                assert response is not None, (name, path)
                assert response.status == 200, (name, path)
                page.wait_for_load_state("networkidle")  # htmx panels loaded
                assert page.locator("html").get_attribute("lang") == language, (name, language)
                assert page.title(), (name, language)
                blocking = _axe(page, axe_source)
                checked += 1
                report[f"{persona or 'anonymous'} {language} {name}"] = [
                    {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])}
                    for v in blocking
                ]
                if blocking:
                    findings.append(
                        f"{name} ({persona or 'anonymous'}, {language}): {_describe(blocking)}"
                    )
                # French text is longer: both languages must reflow
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 800})
                    page.wait_for_timeout(300)  # the resize handler marks scroll regions
                    widths = page.evaluate(
                        "[document.documentElement.scrollWidth, window.innerWidth]"
                    )
                    if widths[0] > widths[1]:
                        overflow.append(
                            f"{name} ({language}) at {width} px: page is {widths[0]} px wide"
                        )
                    if width == 320:
                        ARTIFACTS.mkdir(exist_ok=True)
                        slug = (
                            name.replace(" ", "-").replace("(", "").replace(")", "")
                            + f"-{language}"
                        )
                        page.screenshot(
                            path=str(ARTIFACTS / f"a11y-320-{slug}.png"), full_page=True
                        )
                    # scrolling regions are reachable by keyboard
                    unreachable = page.evaluate(
                        """() => [...document.querySelectorAll('main *')].filter((el) => {
                            const s = getComputedStyle(el);
                            const scrolls = /(auto|scroll)/.test(s.overflowX)
                                && el.scrollWidth > el.clientWidth + 1;
                            return scrolls && el.tabIndex < 0
                                && !el.querySelector('a, button, input, select, textarea');
                        }).length"""
                    )
                    if unreachable:
                        overflow.append(
                            f"{name} at {width} px: {unreachable} scroll region(s) not focusable"
                        )
                page.set_viewport_size({"width": 1280, "height": 900})
            context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    assert checked >= 2 * 13
    assert not findings, "axe serious/critical findings:\n" + "\n".join(findings)
    assert not overflow, "horizontal scrolling:\n" + "\n".join(overflow)


def test_header_by_keyboard_alone_skip_link_menu_button_and_language_switch(
    browser: Any, live_server: Any, unit: Any
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "nurse")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/trials/")

    # The first Tab lands on the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")

    # On a phone the navigation is folded behind the menu button, and opens by keyboard.
    toggle = page.locator(".menu-toggle")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("button", name="Log out").is_visible()
    page.goto(f"{live_server.url}/trials/")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")  # menu button
    assert page.evaluate("document.activeElement.className") == "menu-toggle"
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    logout = page.get_by_role("button", name="Log out")
    assert logout.is_visible()
    box = logout.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.className") == "menu-toggle"

    # The language switch acts on its button, not on a change of the select.
    select = page.locator("#language-select")
    select.focus()
    page.keyboard.press("ArrowDown")  # on a closed select, this changes the value
    page.wait_for_timeout(300)
    assert page.locator("html").get_attribute("lang") == "en"
    select.select_option("fr")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "lang-apply"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.url == f"{live_server.url}/trials/"
    assert page.locator(".menu-toggle").inner_text() == "Menu"
    context.close()
    assert not csp_errors, csp_errors
