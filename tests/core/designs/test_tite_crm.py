"""TITE-CRM (dfcrm::titecrm semantics): weights, weighted posterior, live decision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oncotrials.core.designs.base import Action, DoseData
from oncotrials.core.designs.crm import crm
from oncotrials.core.designs.tite_crm import TITECRM, tite_weights, titecrm
from oncotrials.core.errors import ValidationError

# dfcrm help page for titecrm(): prior <- c(0.05, 0.10, 0.20, 0.35, 0.50, 0.70); target 0.2;
# level <- c(3, 3, 3, 4, 4, 3, 2, 2, 2, 3); y <- c(0, 0, 1, 0, 1, 0, 0, 0, 0, 0)
# u <- c(178, 181, 168, 181, 24, 181, 179, 102, 42, 3); tau <- 180
PRIOR = [0.05, 0.10, 0.20, 0.35, 0.50, 0.70]
LEVEL = [2, 2, 2, 3, 3, 2, 1, 1, 1, 2]  # 1-based levels of the help page minus 1
TOX = [0, 0, 1, 0, 1, 0, 0, 0, 0, 0]
U = [178, 181, 168, 181, 24, 181, 179, 102, 42, 3]
TAU = 180.0


def _reference_posterior_mean(weights: np.ndarray) -> float:
    """dfcrm's crmht/crmh ratio by a fine trapezoid rule, written out independently."""
    a = np.linspace(-10, 10, 20001)
    x = np.asarray(PRIOR)[LEVEL]
    p = x[None, :] ** np.exp(a)[:, None]
    y = np.asarray(TOX)
    lik = np.prod(np.where(y == 1, p, 1 - weights[None, :] * p), axis=1)
    h = np.exp(-(a**2) / 2 / 1.34) * lik
    return float(np.trapezoid(a * h, a) / np.trapezoid(h, a))


def test_linear_weights_are_followup_over_window_capped_and_one_for_dlts() -> None:
    w = tite_weights(TOX, U, TAU)
    expected = np.minimum(np.asarray(U) / TAU, 1.0)
    expected[np.asarray(TOX) == 1] = 1.0
    np.testing.assert_allclose(w, expected, rtol=0, atol=0)


def test_adaptive_weights_cheung_chappell_2000() -> None:
    # DLT times (support) 24 and 168, z = 2: w = (m + (u - s_m)/(s_{m+1} - s_m)) / (z + 1),
    # with s_0 = 0 and s_{z+1} = tau; worked out by hand for the help-page data.
    w = tite_weights(TOX, U, TAU, scheme="adaptive")
    assert w[0] == pytest.approx((2 + 10 / 12) / 3)  # u = 178
    assert w[1] == 1.0  # u = 181: (2 + 13/12)/3 > 1, capped
    assert w[7] == pytest.approx((1 + 78 / 144) / 3)  # u = 102
    assert w[8] == pytest.approx((1 + 18 / 144) / 3)  # u = 42
    assert w[9] == pytest.approx(3 / 24 / 3)  # u = 3, before the first DLT time
    assert w[2] == w[4] == 1.0  # DLTs


@pytest.mark.parametrize("scheme", ["linear", "adaptive"])
def test_weighted_posterior_mean_matches_the_dfcrm_integrals(scheme: str) -> None:
    fit = titecrm(PRIOR, 0.2, TOX, LEVEL, followup=U, obswin=TAU, scheme=scheme)  # type: ignore[arg-type]
    ref = _reference_posterior_mean(np.asarray(fit.weights))
    assert fit.estimate == pytest.approx(ref, abs=1e-8)
    np.testing.assert_allclose(
        fit.fit.ptox, np.asarray(PRIOR) ** math.exp(fit.estimate), rtol=1e-13
    )


def test_full_weights_reduce_to_crm() -> None:
    full = titecrm(PRIOR, 0.2, TOX, LEVEL, weights=np.ones(10))
    plain = crm(PRIOR, 0.2, TOX, LEVEL)
    assert full.estimate == pytest.approx(plain.estimate, abs=1e-12)
    assert full.mtd == plain.mtd


def test_partial_weights_favour_escalation() -> None:
    # Pending patients count as partial non-DLTs: less evidence of safety than full follow-up.
    partial = titecrm(PRIOR, 0.2, TOX, LEVEL, followup=U, obswin=TAU)
    full = titecrm(PRIOR, 0.2, TOX, LEVEL, weights=np.ones(10))
    assert partial.estimate < full.estimate  # smaller beta: higher estimated DLT rates


def test_design_decision_from_dose_data_matches_patient_fit() -> None:
    # Dose 2 (0-based): patients 0, 1, 2, 5, 9: one DLT (2), complete 1 and 5 (181 days),
    # pending 0 (178/180) and 9 (3/180). Dose 1: patients 6, 7, 8 all still inside the
    # 180-day window (179, 102, 42 days). Dose 3: patient 3 complete, patient 4 a DLT.
    data = [
        DoseData(treated=0, dlts=0),
        DoseData(treated=3, dlts=0, pending=3, follow_up=(179 / TAU, 102 / TAU, 42 / TAU)),
        DoseData(treated=5, dlts=1, pending=2, follow_up=(178 / TAU, 3 / TAU)),
        DoseData(treated=2, dlts=1),
        DoseData(treated=0, dlts=0),
        DoseData(treated=0, dlts=0),
    ]
    design = TITECRM(skeleton=tuple(PRIOR), target=0.2)
    fit = titecrm(PRIOR, 0.2, TOX, LEVEL, followup=U, obswin=TAU)
    assert design.fit(data).estimate == pytest.approx(fit.estimate, abs=1e-10)
    decision = design.decide(data, current=2)
    assert decision.next_dose == min(fit.mtd, 3)
    assert decision.action in {Action.STAY, Action.DE_ESCALATE, Action.ESCALATE}
    assert "5 pending" in decision.reason


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="either weights, or followup and obswin"):
        titecrm(PRIOR, 0.2, TOX, LEVEL)
    with pytest.raises(ValidationError, match=r"weights must lie in \[0, 1\]; got 1\.5"):
        titecrm(PRIOR, 0.2, [0], [0], weights=[1.5])
    with pytest.raises(ValidationError, match="got 9 follow-up times for 10 patients"):
        titecrm(PRIOR, 0.2, TOX, LEVEL, followup=U[:9], obswin=TAU)
    with pytest.raises(ValidationError, match="obswin must be a positive finite number; got 0"):
        titecrm(PRIOR, 0.2, TOX, LEVEL, followup=U, obswin=0)
    with pytest.raises(ValidationError, match=r"level must hold 0-based dose indices in 0\.\.5"):
        titecrm(PRIOR, 0.2, [0], [6], weights=[1.0])
    design = TITECRM(skeleton=(0.1, 0.2, 0.3), target=0.25)
    with pytest.raises(ValidationError, match="follow_up must give one fraction per pending"):
        design.decide([DoseData(3, 0, pending=1), DoseData(0, 0), DoseData(0, 0)], 0)
    with pytest.raises(ValidationError, match="pending=3 exceeds the 2 treated patients"):
        design.decide(
            [DoseData(3, 1, pending=3, follow_up=(0.1, 0.2, 0.3)), DoseData(0, 0), DoseData(0, 0)],
            0,
        )
