"""CRM (dfcrm semantics): posterior, likelihood estimate, skeleton calibration, live decision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oncotrials.core.designs.base import Action, DoseData
from oncotrials.core.designs.crm import CRM, crm, getprior, ptox_from_beta
from oncotrials.core.errors import ValidationError

# dfcrm help page for crm():  prior <- c(0.05, 0.10, 0.20, 0.35, 0.50, 0.70); target <- 0.2
# level <- c(3, 4, 4, 3, 3, 4, 3, 2, 2, 2); y <- c(0, 0, 1, 0, 0, 1, 1, 0, 0, 0)
MAN_PRIOR = [0.05, 0.10, 0.20, 0.35, 0.50, 0.70]
MAN_LEVEL = [2, 3, 3, 2, 2, 3, 2, 1, 1, 1]  # the help page's 1-based levels minus 1
MAN_TOX = [0, 0, 1, 0, 0, 1, 1, 0, 0, 0]


def test_dfcrm_help_page_example_posterior_mean_and_next_dose() -> None:
    # designs.md §1.6: dfcrm::crm(prior, target, y, level) on the help-page data gives
    # beta-hat = -0.2121715265 and next dose 2 (1-based), as reproduced by clintrials' CRM.
    fit = crm(MAN_PRIOR, 0.2, MAN_TOX, MAN_LEVEL)
    assert fit.estimate == pytest.approx(-0.2121715265, abs=1e-9)
    assert fit.mtd == 1  # dose 2 in dfcrm's 1-based numbering
    # ptox is the plug-in skeleton^exp(E[beta]), not the posterior mean of p (designs.md trap 8)
    expected = np.asarray(MAN_PRIOR) ** math.exp(fit.estimate)
    np.testing.assert_allclose(fit.ptox, expected, rtol=1e-14)


def test_interval_uses_normal_quantile_of_posterior_sd() -> None:
    # dfcrm::crm: lb/ub = est -/+ qnorm(0.95) * sqrt(post.var); ptoxL = prior^exp(ub)
    fit = crm(MAN_PRIOR, 0.2, MAN_TOX, MAN_LEVEL)
    z = 1.6448536269514722
    ub = fit.estimate + z * math.sqrt(fit.post_var)
    lb = fit.estimate - z * math.sqrt(fit.post_var)
    np.testing.assert_allclose(fit.ptox_lower, np.asarray(MAN_PRIOR) ** math.exp(ub), rtol=1e-12)
    np.testing.assert_allclose(fit.ptox_upper, np.asarray(MAN_PRIOR) ** math.exp(lb), rtol=1e-12)
    assert fit.prior_var == pytest.approx(1.34)


# Cheung (2011), Dose Finding by the CRM, Table 3.2 (p. 26): a 20-patient logistic CRM trial
# (skeleton 0.05/0.12/0.25/0.40/0.55, target 0.25, intercept 3, prior N(0, 1.34)) with the
# dose given to each patient, the DLT outcomes and beta-hat after each patient (2 dp), as
# transcribed in brockk/clintrials tests/test_crm.py::test_CRM_bayes.
CHEUNG_SKELETON = [0.05, 0.12, 0.25, 0.40, 0.55]
CHEUNG_DOSES = [3, 5, 5, 3, 4, 4, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4]
CHEUNG_TOX = [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]
CHEUNG_BETA = [0.60, 0.93, 0.04, 0.18, 0.28, 0.34, 0.41, 0.47, 0.31, 0.35,
               0.25, 0.15, 0.18, 0.21, 0.24, 0.26, 0.28, 0.21, 0.22, 0.24]  # fmt: skip


@pytest.mark.parametrize("n_seen", range(1, 21))
def test_cheung_2011_table_3_2_bayes_logistic(n_seen: int) -> None:
    levels = [d - 1 for d in CHEUNG_DOSES[:n_seen]]
    fit = crm(CHEUNG_SKELETON, 0.25, CHEUNG_TOX[:n_seen], levels, model="logistic")
    assert fit.estimate == pytest.approx(CHEUNG_BETA[n_seen - 1], abs=0.005)
    if n_seen < 20:  # the table's next dose is crm()'s unrestricted recommendation
        assert fit.mtd + 1 == CHEUNG_DOSES[n_seen]


# brockk/clintrials tests/test_crm.py::test_CRM_mle ("verifiable in R using dfcrm"): logistic
# likelihood CRM, skeleton 0.05/0.12/0.25/0.40/0.55, target 0.25; beta-hat (3 dp) on the
# first j patients and the dose recommended for patient j+1.
MLE_DOSES = [3, 3, 1, 2, 2, 3, 3, 2, 3, 2, 1, 2, 1, 1, 1, 2, 2]
MLE_TOX = [0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0]
MLE_BETA = [-0.312, -0.193, -0.099, -0.040, 0.030, -0.121, -0.084, -0.177, -0.284, -0.256,
            -0.336, -0.308, -0.286, -0.266, -0.240]  # fmt: skip


@pytest.mark.parametrize("j", range(2, 17))
def test_likelihood_crm_matches_clintrials_dfcrm_sequence(j: int) -> None:
    levels = [d - 1 for d in MLE_DOSES[:j]]
    fit = crm(CHEUNG_SKELETON, 0.25, MLE_TOX[:j], levels, model="logistic", method="mle")
    assert fit.estimate == pytest.approx(MLE_BETA[j - 2], abs=0.0006)
    assert fit.mtd + 1 == MLE_DOSES[j]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # brockk/clintrials tests/test_crm.py::test_CRM_bayes_again ("verifiable in R"):
        # skeleton 0.1/0.2/0.4/0.6, target 0.4, doses 1,1,1,2,2,2 with DLTs 0,0,0,1,0,1
        ("empiric", [0.240, 0.368, 0.566, 0.728]),
        ("logistic", [0.274, 0.412, 0.598, 0.734]),
    ],
)
def test_plugin_estimates_small_example(model: str, expected: list[float]) -> None:
    fit = crm([0.1, 0.2, 0.4, 0.6], 0.4, [0, 0, 0, 1, 0, 1], [0, 0, 0, 1, 1, 1], model=model)  # type: ignore[arg-type]
    np.testing.assert_allclose(fit.ptox, expected, atol=0.0006)


def test_mle_needs_both_outcomes() -> None:
    with pytest.raises(ValidationError, match="every patient or no patient"):
        crm(MAN_PRIOR, 0.2, [0, 0, 0], [0, 0, 0], method="mle")


def test_no_data_returns_the_prior_and_its_mtd() -> None:
    fit = crm(MAN_PRIOR, 0.2, [], [])
    assert fit.estimate == pytest.approx(0.0, abs=1e-12)
    assert fit.post_var == pytest.approx(1.34, rel=1e-8)
    assert fit.mtd == 2  # skeleton value 0.20 equals the target


# --- getprior: dfcrm::getprior(halfwidth, target, nu, nlevel, model) -----------------------


@pytest.mark.parametrize(("halfwidth", "target", "nu", "nlevel"), [
    (0.05, 0.25, 3, 5), (0.10, 0.25, 3, 6), (0.04, 0.30, 4, 6), (0.05, 0.20, 1, 5),
    (0.05, 0.20, 5, 5), (0.07, 0.33, 2, 8),
])  # fmt: skip
def test_getprior_empiric_closed_form(
    halfwidth: float, target: float, nu: int, nlevel: int
) -> None:
    # Lee & Cheung (2009), eq. for the empiric model: iterating dfcrm's recursion gives
    # log skel_k = log(target) * (log(target + d) / log(target - d)) ** (k - nu).
    skel = getprior(halfwidth, target, nu, nlevel)
    k = np.arange(1, nlevel + 1)
    ratio = math.log(target + halfwidth) / math.log(target - halfwidth)
    expected = np.exp(math.log(target) * ratio ** (k - nu))
    np.testing.assert_allclose(skel, expected, rtol=1e-13)
    assert skel[nu - 1] == target


@pytest.mark.parametrize(("halfwidth", "target", "nu", "nlevel"), [
    (0.10, 0.25, 3, 6), (0.05, 0.25, 3, 5), (0.05, 0.30, 1, 4), (0.06, 0.20, 4, 4),
])  # fmt: skip
def test_getprior_logistic_closed_form(
    halfwidth: float, target: float, nu: int, nlevel: int
) -> None:
    # dfcrm help page example: getprior(0.10, 0.25, 3, nlevel=6, model="logistic").
    # Scaled doses form a geometric sequence: x_k = x_nu * (L(t+d)/L(t-d)) ** (k - nu),
    # with L(p) = logit(p) - 3, and skel_k = expit(3 + x_k).
    skel = getprior(halfwidth, target, nu, nlevel, model="logistic")

    def lg(p: float) -> float:
        return math.log(p / (1 - p)) - 3.0

    k = np.arange(1, nlevel + 1)
    x = lg(target) * (lg(target + halfwidth) / lg(target - halfwidth)) ** (k - nu)
    np.testing.assert_allclose(skel, 1 / (1 + np.exp(-3.0 - x)), rtol=1e-13)
    assert skel[nu - 1] == pytest.approx(target, rel=1e-14)


@pytest.mark.parametrize("model", ["empiric", "logistic"])
def test_getprior_indifference_interval_property(model: str) -> None:
    # Lee & Cheung (2009): for adjacent doses k-1, k there is a beta at which dose k has DLT
    # probability target + delta while dose k-1 has target - delta.
    skel = getprior(0.05, 0.25, 3, 6, model=model)  # type: ignore[arg-type]
    for k in range(1, 6):
        if model == "empiric":
            b = math.log(math.log(0.30) / math.log(skel[k]))
        else:
            xk = math.log(skel[k] / (1 - skel[k])) - 3
            b = math.log((math.log(0.30 / 0.70) - 3) / xk)
        p = ptox_from_beta(b, skel, model)  # type: ignore[arg-type]
        assert p[k] == pytest.approx(0.30, rel=1e-12)
        assert p[k - 1] == pytest.approx(0.20, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"halfwidth": 0.3, "target": 0.25, "nu": 3, "nlevel": 5}, "halfwidth"),
        ({"halfwidth": 0.05, "target": 1.2, "nu": 3, "nlevel": 5}, "target must lie in"),
        ({"halfwidth": 0.05, "target": 0.25, "nu": 6, "nlevel": 5}, "nu is the 1-based"),
        ({"halfwidth": 0.05, "target": 0.25, "nu": 0, "nlevel": 5}, "got 0"),
        ({"halfwidth": -0.05, "target": 0.25, "nu": 3, "nlevel": 5}, "halfwidth"),
    ],
)
def test_getprior_bad_input(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        getprior(**kwargs)  # type: ignore[arg-type]


# --- bad input ------------------------------------------------------------------------------


def test_skeleton_must_be_increasing() -> None:
    with pytest.raises(ValidationError, match=r"skeleton must be strictly increasing; got 0\.2"):
        crm([0.05, 0.2, 0.2, 0.3], 0.25, [0], [0])


def test_rates_outside_unit_interval_are_named() -> None:
    with pytest.raises(
        ValidationError,
        match=r"skeleton must hold probabilities in \(0, 1\); got 1\.1",
    ):
        crm([0.05, 0.2, 1.1], 0.25, [0], [0])
    with pytest.raises(ValidationError, match=r"target must lie in \(0, 1\); got 0"):
        crm([0.05, 0.2, 0.3], 0.0, [0], [0])


def test_unknown_dose_in_patient_data() -> None:
    with pytest.raises(
        ValidationError, match=r"level must hold 0-based dose indices in 0\.\.2; got 3"
    ):
        crm([0.05, 0.2, 0.3], 0.25, [0, 1], [0, 3])


def test_tox_must_be_binary_and_match_levels() -> None:
    with pytest.raises(ValidationError, match=r"got 2\.0 for patient 1"):
        crm([0.05, 0.2, 0.3], 0.25, [0, 2], [0, 1])
    with pytest.raises(ValidationError, match="3 DLT indicators and 2 dose levels"):
        crm([0.05, 0.2, 0.3], 0.25, [0, 1, 0], [0, 1])


def test_logistic_intercept_too_small() -> None:
    with pytest.raises(ValidationError, match=r"intcpt=0\.5 is too small"):
        crm([0.05, 0.2, 0.7], 0.25, [0], [0], model="logistic", intcpt=0.5)


# --- live decision --------------------------------------------------------------------------


def _counts(pairs: list[tuple[int, int]]) -> list[DoseData]:
    return [DoseData(treated=n, dlts=y) for n, y in pairs]


def test_decide_matches_patient_level_fit() -> None:
    design = CRM(skeleton=tuple(MAN_PRIOR), target=0.2, no_skip=False, coherent=False)
    n = np.bincount(MAN_LEVEL, minlength=6)
    y = np.bincount(MAN_LEVEL, weights=MAN_TOX, minlength=6).astype(int)
    data = _counts(list(zip(n.tolist(), y.tolist(), strict=True)))
    decision = design.decide(data, current=1)
    assert decision.next_dose == 1
    assert decision.action is Action.STAY
    assert design.fit(data).estimate == pytest.approx(-0.2121715265, abs=1e-9)


def test_no_skip_restricts_escalation_to_one_level() -> None:
    # Cheung Table 3.2: after 0/1 at dose 3 the unrestricted CRM jumps to dose 5.
    design = CRM(skeleton=tuple(CHEUNG_SKELETON), target=0.25, model="logistic")
    data = _counts([(0, 0), (0, 0), (1, 0), (0, 0), (0, 0)])
    d = design.decide(data, current=2, last_cohort=DoseData(1, 0))
    assert d.next_dose == 3
    assert d.action is Action.ESCALATE
    assert "no skipping" in d.rule
    free = CRM(skeleton=tuple(CHEUNG_SKELETON), target=0.25, model="logistic", no_skip=False)
    assert free.decide(data, current=2).next_dose == 4


def test_coherence_blocks_escalation_after_a_toxic_cohort() -> None:
    skel = (0.05, 0.10, 0.20, 0.30, 0.45)
    design = CRM(skeleton=skel, target=0.3)
    data = _counts([(3, 0), (3, 0), (3, 0), (3, 1), (0, 0)])
    assert design.decide(data, current=3).next_dose == 4  # model says escalate
    d = design.decide(data, current=3, last_cohort=DoseData(3, 1))
    assert d.next_dose == 3  # 1/3 >= 0.3: coherence keeps the dose
    assert "coherence" in d.rule


def test_safety_stop_when_lowest_dose_too_toxic() -> None:
    design = CRM(skeleton=(0.10, 0.20, 0.30, 0.40), target=0.3, safety_threshold=0.9)
    data = _counts([(6, 5), (0, 0), (0, 0), (0, 0)])
    p = design.prob_lowest_too_toxic(data)
    assert p > 0.9
    d = design.decide(data, current=0)
    assert d.action is Action.STOP
    assert d.next_dose is None
    calm = _counts([(3, 0), (0, 0), (0, 0), (0, 0)])
    assert design.prob_lowest_too_toxic(calm) < 0.1
    assert design.decide(calm, current=0).action is Action.ESCALATE


def test_prob_lowest_too_toxic_prior_value() -> None:
    # With no data the probability is the prior P(beta < b*), b* = log(log(target)/log(skel_1))
    design = CRM(skeleton=(0.10, 0.20, 0.30), target=0.3)
    p = design.prob_lowest_too_toxic(_counts([(0, 0)] * 3))
    bstar = math.log(math.log(0.3) / math.log(0.1))
    assert p == pytest.approx(0.5 * math.erfc(-bstar / math.sqrt(2 * 1.34)), abs=1e-9)


def test_stop_at_sample_size() -> None:
    design = CRM(skeleton=(0.10, 0.20, 0.30), target=0.3, max_n=6)
    d = design.decide(_counts([(3, 0), (3, 1), (0, 0)]), current=1)
    assert d.action is Action.STOP
    assert "Sample size reached (6 of 6)" in d.reason
    assert d.mtd == design.fit(_counts([(3, 0), (3, 1), (0, 0)])).mtd


def test_decide_rejects_data_for_unknown_doses() -> None:
    design = CRM(skeleton=(0.10, 0.20, 0.30), target=0.3)
    with pytest.raises(ValidationError, match="Got data for 4 dose levels but the design has 3"):
        design.decide(_counts([(3, 0)] * 4), current=0)
    with pytest.raises(
        ValidationError, match=r"current dose 3 \(0-based\) is not one of the 3 dose levels"
    ):
        design.decide(_counts([(3, 0)] * 3), current=3)


def test_decide_mle_needs_both_outcomes() -> None:
    design = CRM(skeleton=(0.10, 0.20, 0.30), target=0.3, method="mle")
    with pytest.raises(ValidationError, match="0 DLTs among 3 patients"):
        design.decide(_counts([(3, 0), (0, 0), (0, 0)]), current=0)


def test_dose_transition_pathways_enumerate_every_outcome() -> None:
    # Yap et al. (2017) dose-transition pathways: every outcome of the next two cohorts of 3.
    from oncotrials.core.designs.crm import crm_pathways

    design = CRM(skeleton=tuple(getprior(0.05, 0.3, 4, 6)), target=0.3)
    data = _counts([(3, 0), (3, 0), (0, 0), (0, 0), (0, 0), (0, 0)])
    paths = crm_pathways(design, data, 1, cohort_size=3, n_cohorts=2)
    assert len(paths) == 4 + 4 * 4
    first_dose = design.decide(data, 1).next_dose
    assert first_dose is not None
    for p in paths:
        # replaying the path through decide() gives the same decision
        n = [d.treated for d in data]
        y = [d.dlts for d in data]
        for dose, dlt in p.outcomes:
            n[dose] += 3
            y[dose] += dlt
        last_dose, last_y = p.outcomes[-1]
        again = design.decide(
            _counts(list(zip(n, y, strict=True))), last_dose, last_cohort=DoseData(3, last_y)
        )
        assert again == p.decision
        assert p.outcomes[0][0] == first_dose
    # three DLTs out of three never lead to escalation
    for p in paths:
        if p.outcomes[-1][1] == 3:
            assert p.decision.next_dose is not None
            assert p.decision.next_dose < p.outcomes[-1][0]
    with pytest.raises(ValidationError, match="n_cohorts must be at most 4"):
        crm_pathways(design, data, 1, n_cohorts=5)
