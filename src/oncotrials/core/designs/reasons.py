"""Why a design decided as it did, and by which rule: a stable code and the values it names.

A :class:`Decision` carries its reason as English text (``reason``), and, for the designs that
word it from this table, as an :class:`Explanation` too, so that an application can word the
same reason in its user's language from the code and the values. A value may itself be an
explanation (the action part of "2/6 DLTs at dose 3: escalate to dose 4."), or a tuple of
explanations, the parts of a rule read one after the other ("n=3; escalate if DLTs <= 0").
The rule that decided (``Decision.rule``, :data:`RULES`) and the reason of an end-of-trial MTD
selection (``MTDSelection.reason``, the ``mtd_`` codes of :data:`REASONS`) are explained the
same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

#: code -> the English reason, with ``{name}`` for each value it names.
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "lowest_overly_toxic": (
            "The lowest dose is overly toxic ({dlts}/{treated} DLTs); stop the trial, no MTD."
        ),
        "untreated_next_cohort": "No patient treated yet at dose {dose}; treat the next cohort there.",
        "untreated_next_cohort_short": "No patient yet at dose {dose}; treat the next cohort there.",
        "max_sample_select": "The maximum sample size ({size}) is reached; select dose {mtd} as the MTD.",
        "max_sample_none": "The maximum sample size ({size}) is reached; no dose is selected.",
        "eliminate_current": (
            "{y}/{n} DLTs at dose {dose}: P(DLT rate > {target}) > {cutoff}; eliminate dose "
            "{dose} and higher doses, de-escalate to dose {next}."
        ),
        "eliminate_above": (
            "Dose {first} ({dlts}/{treated} DLTs) is eliminated with every higher dose, "
            "including dose {dose}; go to dose {next}."
        ),
        "earlystop_select": (
            "{count} patients at dose {dose} reach n_earlystop={n_earlystop}; stop and select "
            "dose {mtd}."
        ),
        "earlystop_none": (
            "{count} patients at dose {dose} reach n_earlystop={n_earlystop}; stop and select none."
        ),
        "observed": "{y}/{n} DLTs at dose {dose}: {action}.",
        "escalate_to": "escalate to dose {dose}",
        "deescalate_to": "de-escalate to dose {dose}",
        "stay_highest": "stay (highest dose)",
        "stay_next_eliminated": "stay (the next dose is eliminated)",
        "stay_lowest": "stay (already at the lowest dose)",
        "stay_at": "stay at dose {dose}",
        # TITE-BOIN
        "tite_eliminated": (
            "Dose {first} and higher are overly toxic; de-escalate to dose {next}."
        ),
        "tite_max_sample_select": (
            "The maximum sample size is reached and every patient is evaluated; select dose {mtd}."
        ),
        "tite_max_sample_none": (
            "The maximum sample size is reached and every patient is evaluated; select none."
        ),
        "tite_too_many_pending": (
            "{pending} of {treated} patients at dose {dose} are still pending (more than "
            "{share}); suspend accrual until more are evaluated."
        ),
        "tite_lowest_pending": (
            "p_hat={p_hat} at the lowest dose with {pending} pending; wait for their follow-up."
        ),
        "tite_earlystop_select": (
            "{count} patients at dose {dose} reach n_earlystop and the decision is to stay; "
            "stop and select dose {mtd}."
        ),
        "tite_earlystop_none": (
            "{count} patients at dose {dose} reach n_earlystop and the decision is to stay; "
            "stop and select none."
        ),
        "tite_observed": "{dlts} DLTs, {pending} pending among {treated} at dose {dose}: {action}.",
        # 3+3
        "tpt_untreated": "No patient yet at dose {dose}; treat 3 there.",
        "tpt_lowest_toxic": "{y}/{n} DLTs at the lowest dose: stop the trial, no MTD.",
        "tpt_mtd": "{y}/{n} DLTs at dose {dose}: stop; dose {mtd} is the MTD.",
        "tpt_escalate": "{y}/{n} DLTs at dose {dose}: escalate to dose {next}.",
        "tpt_exceed": "{y}/{n} DLTs at dose {dose} exceed the MTD: treat 3 more at dose {next}.",
        "tpt_stay": "{y}/{n} DLTs at dose {dose}: treat 3 more at dose {dose}.",
        # model-based designs (CRM, TITE-CRM, EWOC)
        "model_untreated_cohort": (
            "No patient treated yet; treat the first cohort at dose {dose}."
        ),
        "model_untreated_patient": (
            "No patient treated yet; treat the first patient at dose {dose}."
        ),
        "crm_safety_stop": (
            "P(DLT rate at the lowest dose > {target}) = {p} exceeds the safety threshold "
            "{threshold}: stop, no dose is safe."
        ),
        "crm_max_n": "Sample size reached ({total} of {max_n}); the MTD estimate is dose {mtd}.",
        "crm_stop_n": (
            "Dose {dose} already has {count} patients (stop_n_at_dose={stop_n}); the MTD "
            "estimate is dose {dose}."
        ),
        "crm_posterior_mean": (
            "Posterior mean of beta {beta}; DLT estimates [{estimates}] for target {target}."
        ),
        "crm_posterior_mle": (
            "Posterior MLE of beta {beta}; DLT estimates [{estimates}] for target {target}."
        ),
        "titecrm_posterior": (
            "TITE-CRM posterior mean of beta {beta} with {pending} pending patient(s) weighted "
            "by follow-up; DLT estimates [{estimates}] for target {target}."
        ),
        "ewoc_stop": "P(DLT rate at the first dose > {target}) = {p} exceeds {threshold}: stop.",
        "ewoc_next": (
            "P(MTD < dose {dose}) = {p} <= alpha {alpha}; posterior mean DLT probability there "
            "{pdlt}."
        ),
        # end-of-trial MTD (or OBD) selection
        "mtd_isotonic": "dose {dose}: isotonic estimate closest to the target {target}",
        "mtd_none": "no dose selected",
        "mtd_none_lowest_toxic": "no dose selected: the lowest dose is overly toxic",
        "mtd_none_untreated": "no dose selected: no patient has been treated",
        "mtd_none_inadmissible": "no dose selected: no admissible dose meets the selection rule",
        "obd_utility": (
            "dose {dose}: the largest posterior mean utility among admissible doses at or "
            "below the MTD (dose {mtd})"
        ),
        "obd_none_inadmissible": "no dose selected: no admissible dose at or below the MTD",
    }
)

#: code -> the English text of the rule that decided (``Decision.rule``), as :data:`REASONS`.
RULES: Mapping[str, str] = MappingProxyType(
    {
        # the parts of a rule, read one after the other ("n=3; escalate if DLTs <= 0")
        "rule_parts": "{parts}",
        "rule_n": "n={n}",
        "rule_untreated": "n=0",
        # interval designs (BOIN, Keyboard, mTPI-2, i3+3): the row of the decision table
        "rule_eliminate_if": "n={n}: eliminate if DLTs >= {dlts}",
        "rule_escalate_if": "escalate if DLTs <= {dlts}",
        "rule_deescalate_if": "de-escalate if DLTs >= {dlts}",
        "rule_eliminate_if_part": "eliminate if DLTs >= {dlts}",
        "rule_observed_letter": "observed {y} -> {letter}",
        # 3+3
        "rule_tpt_untreated": "n=0: treat 3",
        "rule_tpt_at": "{y}/{n} at dose {dose}",
        "rule_tpt_lowest_toxic": "{y}/{n} at dose {dose}: >= 2 DLTs at dose 1",
        "rule_tpt_escalate_3": "{y}/{n} at dose {dose}: 0/3",
        "rule_tpt_escalate_6": "{y}/{n} at dose {dose}: <= 1/6",
        "rule_tpt_exceed": "{y}/{n} at dose {dose}: >= 2 DLTs",
        "rule_tpt_stay": "{y}/{n} at dose {dose}: 1/3",
        # TITE-BOIN
        "rule_tite_elimination": "elimination (full n)",
        "rule_tite_sample_size": "sample size",
        "rule_tite_too_many_pending": "n_pending > {share} * n",
        "rule_tite_boundaries": "ESS={ess}, p_hat={p_hat}; {escalate}, {deescalate}",
        "rule_tite_escalate_if": "escalate if p_hat <= {p_hat}",
        "rule_tite_deescalate_if": "de-escalate if p_hat >= {p_hat}",
        # model-based designs (CRM, TITE-CRM, EWOC)
        "rule_crm_safety_stop": "safety stop",
        "rule_crm_model": "model recommends dose {dose} (estimate {estimate} closest to target)",
        "rule_crm_coherence": "coherence: no escalation after a cohort at or above the target rate",
        "rule_no_skipping": "no skipping: at most one level up",
        "rule_crm_max_n": "max_n={max_n}; selected dose {dose}",
        "rule_crm_stop_n": "stop_n_at_dose={stop_n}; selected dose {dose}",
        "rule_titecrm_model": "model recommends dose {dose}",
        "rule_ewoc_stop": "EWOC stopping rule",
        "rule_ewoc_quantile": "{alpha}-quantile of the MTD = {quantile} -> dose {dose}",
    }
)

_TEMPLATES: Mapping[str, str] = MappingProxyType({**REASONS, **RULES})
if len(_TEMPLATES) != len(REASONS) + len(RULES):
    raise RuntimeError("A code is both a reason and a rule.")


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return "; ".join(_text(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Explanation:
    """A reason or a rule by its code (a key of :data:`REASONS` or :data:`RULES`) and the
    values it names."""

    code: str
    values: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return _TEMPLATES[self.code].format(**{k: _text(v) for k, v in self.values})


def explain(code: str, **values: Any) -> Explanation:
    """The explanation ``code`` with ``values`` (an unknown code is a programming error)."""
    if code not in _TEMPLATES:
        raise KeyError(code)
    return Explanation(code, tuple(values.items()))


def reason(code: str, **values: Any) -> dict[str, Any]:
    """The ``reason`` and ``explained`` fields of a :class:`Decision`, from one explanation."""
    e = explain(code, **values)
    return {"reason": str(e), "explained": e}


def rule_parts(*parts: Explanation) -> Explanation:
    """One rule read from its ``parts`` in order ("n=3; escalate if DLTs <= 0")."""
    return explain("rule_parts", parts=tuple(parts))


def ruled(rule: str | Explanation, **values: Any) -> dict[str, Any]:
    """The ``rule`` and ``rule_explained`` fields of a :class:`Decision`: from the code
    ``rule`` and its ``values``, or from an explanation already made."""
    e = rule if isinstance(rule, Explanation) else explain(rule, **values)
    if e.code not in RULES:
        raise KeyError(e.code)
    return {"rule": str(e), "rule_explained": e}
