"""The design engine's refusals in the user's language: one place for every code it raises.

The dose-finding engine (``oncotrials.core.designs``) knows nothing of Django: it refuses with
English text, a stable ``code`` and the values it names in ``extra``. Every code it raises has
its template here, with the same named placeholders (a test reads the engine's source to keep
the two in step); the escalation plan form, the escalation page and the API word the engine's
refusals through ``design_errors_translated`` (or ``design_message``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.utils.translation import gettext_lazy, pgettext_lazy

from oncotrials.apps.accounts.core_messages import Catalogue, translated
from oncotrials.core.designs.base import Decision
from oncotrials.core.designs.boin12 import OBDSelection
from oncotrials.core.designs.interval import MTDSelection
from oncotrials.core.designs.reasons import Explanation
from oncotrials.core.errors import OncotrialsError

#: What each design-specific parameter is (``Param.help`` of the designs), in the user's
#: language: the plan form shows it beside the field, and a refusal of a missing parameter
#: says it.
PARAM_HELP: Catalogue = {
    "deescalation (default) or escalation_only": gettext_lazy(
        "deescalation (default) or escalation_only"
    ),
    "stop when this many patients are at one dose": gettext_lazy(
        "stop when this many patients are at one dose"
    ),
    "posterior cutoff of the elimination rule, default 0.95": gettext_lazy(
        "posterior cutoff of the elimination rule, default 0.95"
    ),
    "stricter stopping rule for the lowest dose": gettext_lazy(
        "stricter stopping rule for the lowest dose"
    ),
    "highest sub-therapeutic DLT rate, default 0.6 x target": gettext_lazy(
        "highest sub-therapeutic DLT rate, default 0.6 x target"
    ),
    "lowest overly toxic DLT rate, default 1.4 x target": gettext_lazy(
        "lowest overly toxic DLT rate, default 1.4 x target"
    ),
    "distance from the target to the interval's lower end": gettext_lazy(
        "distance from the target to the interval's lower end"
    ),
    "distance from the target to the interval's upper end": gettext_lazy(
        "distance from the target to the interval's upper end"
    ),
    "largest pending share at the current dose, default 0.5": gettext_lazy(
        "largest pending share at the current dose, default 0.5"
    ),
    "DLT window in days, to weigh pending patients by their follow-up": gettext_lazy(
        "DLT window in days, to weigh pending patients by their follow-up"
    ),
    "prior DLT guesses per dose level": gettext_lazy("prior DLT guesses per dose level"),
    "empiric (default) or logistic": gettext_lazy("empiric (default) or logistic"),
    "bayes (default) or mle": gettext_lazy("bayes (default) or mle"),
    "at most one level up, default true": gettext_lazy("at most one level up, default true"),
    "stop if P(lowest dose too toxic) exceeds this": gettext_lazy(
        "stop if P(lowest dose too toxic) exceeds this"
    ),
    "stop when the next dose has this many patients": gettext_lazy(
        "stop when the next dose has this many patients"
    ),
    "dose amounts, default the cohort's dose levels": gettext_lazy(
        "dose amounts, default the cohort's dose levels"
    ),
    "feasibility bound in (0, 0.5], default 0.25": gettext_lazy(
        "feasibility bound in (0, 0.5], default 0.25"
    ),
    "lower end of the dose scale": gettext_lazy("lower end of the dose scale"),
    "upper end of the dose scale": gettext_lazy("upper end of the dose scale"),
    "stop if P(first dose too toxic) exceeds this": gettext_lazy(
        "stop if P(first dose too toxic) exceeds this"
    ),
}


def param_help(text: str) -> str:
    """A parameter's help in the active language (the engine's English when not listed)."""
    return str(PARAM_HELP.get(text, text))


DESIGN_MESSAGES: Catalogue = {
    "design_target": gettext_lazy(
        "The target DLT rate of %(design)s must lie in (0, 1); got %(got)s."
    ),
    "design_param_boolean": gettext_lazy("%(field)s must be true or false; got %(value)s."),
    "design_param_text": gettext_lazy("%(field)s must be a text; got %(value)s."),
    "design_param_integer": gettext_lazy("%(field)s must be an integer; got %(value)s."),
    "design_param_number": gettext_lazy("%(field)s must be a number; got %(value)s."),
    "design_param_per_dose": gettext_lazy(
        "%(field)s must be a list of numbers, one per dose level; got %(value)s."
    ),
    "design_param_count": gettext_lazy(
        "%(field)s gives %(count)s values but the cohort has %(n_doses)s dose levels; give one "
        "per dose level, lowest first."
    ),
    "design_param_unknown": gettext_lazy(
        "%(design)s has no parameter %(name)s; its parameters are: %(accepted)s."
    ),
    "design_param_required": gettext_lazy("%(design)s needs %(field)s (%(help)s)."),
    "design_3plus3_cohorts": gettext_lazy(
        "Dose %(dose)s: the 3+3 design treats 0, 3 or 6 patients per dose; got %(treated)s. "
        "Record complete cohorts of 3."
    ),
    "design_3plus3_variant": gettext_lazy(
        "3+3 variant must be one of %(choices)s; got %(variant)s."
    ),
    "design_beta_parameters": gettext_lazy(
        "The beta prior needs positive finite parameters; got a=%(a)s, b=%(b)s."
    ),
    "design_beta_prior": gettext_lazy(
        "%(name)s must hold two positive Beta parameters; got %(value)s."
    ),
    "design_boin12_number": gettext_lazy("BOIN12 %(name)s must be a number; got %(value)s."),
    "design_boin12_p_saf": gettext_lazy(
        "BOIN12 p_saf must lie in (0, phi_t=%(t)s); got %(p_saf)s."
    ),
    "design_boin12_p_tox": gettext_lazy(
        "BOIN12 p_tox must lie in (phi_t=%(t)s, 1); got %(p_tox)s."
    ),
    "design_boin12_range": gettext_lazy("BOIN12 %(name)s must lie in %(brackets)s; got %(value)s."),
    "design_boin_p_saf": gettext_lazy(
        "BOIN p_saf must lie in (0, target) and at least 10%% of the target below it (at most "
        "%(at_most)s for target %(t)s); got %(p_saf)s."
    ),
    "design_boin_p_tox": gettext_lazy(
        "BOIN p_tox must lie in (target, 1) and at least 10%% of the target above it (at least "
        "%(at_least)s for target %(t)s); got %(p_tox)s."
    ),
    "design_both_needed": gettext_lazy(
        "Dose %(dose)s: 'both' (patients with a DLT and a response) is needed because the "
        "utility is not additive (u_neither=%(u_neither)s + u_both=%(u_both)s != 100); give "
        "(treated, dlts, responses, both)."
    ),
    "design_both_range": gettext_lazy(
        "Dose %(dose)s: both (patients with a DLT and a response) must lie between %(lo)s and "
        "%(hi)s for treated=%(treated)s, dlts=%(dlts)s, responses=%(responses)s; got "
        "both=%(b)s."
    ),
    "design_comb_counts": gettext_lazy(
        "Combination (%(row)s, %(column)s): need 0 <= DLTs <= treated; got %(dlts)s DLTs among "
        "%(treated)s."
    ),
    "design_comb_current": gettext_lazy(
        "current combination %(current)s is outside the %(ni)s x %(nj)s dose grid."
    ),
    "design_comb_rows": gettext_lazy(
        "Arrange the grid with no more rows than columns (transpose it); got %(ni)s rows and "
        "%(nj)s columns."
    ),
    "design_comb_shapes": gettext_lazy(
        "n and y must be matrices of the same shape (rows = drug A levels, columns = drug B "
        "levels); got shapes %(n_shape)s and %(y_shape)s."
    ),
    "design_comb_truth_decreasing": gettext_lazy(
        "truth must be non-decreasing along every row and column (toxicity increases with the "
        "dose of either drug)."
    ),
    "design_comb_truth_probability": gettext_lazy(
        "truth[%(i)s][%(j)s] must be a probability in [0, 1]; got %(value)s."
    ),
    "design_comb_truth_shape": gettext_lazy(
        "truth must be a matrix of DLT probabilities (rows = drug A levels); got shape %(shape)s."
    ),
    "design_comb_untreated": gettext_lazy(
        "No patient has been treated at the current combination %(cur)s; the reference "
        "next.comb requires data at the current dose."
    ),
    "design_correlation_number": gettext_lazy(
        "correlation must be a number in [-1, 1]; got %(correlation)s."
    ),
    "design_correlation_range": gettext_lazy(
        "correlation must lie in [-1, 1]; got %(correlation)s."
    ),
    "design_correlation_unattainable": gettext_lazy(
        "correlation %(rho)s is not attainable at dose %(dose)s (tox=%(tox)s, eff=%(eff)s): "
        "P(DLT and response) would be %(joint)s, outside [%(low)s, %(high)s]. Use a "
        "correlation closer to 0."
    ),
    "design_counts_negative": gettext_lazy(
        "Dose %(dose)s: counts must be non-negative; got treated=%(treated)s, dlts=%(dlts)s, "
        "pending=%(pending)s."
    ),
    "design_crm_halfwidth": gettext_lazy(
        "halfwidth must leave target ± halfwidth inside (0, 1); got halfwidth=%(halfwidth)s "
        "with target=%(target)s."
    ),
    "design_crm_intercept": gettext_lazy(
        "intcpt=%(intcpt)s is too small for the logistic model: the scaled dose "
        "logit(%(skeleton)s) - intcpt = %(scaled)s at dose %(i)s must be negative; raise "
        "intcpt above logit of the largest skeleton value."
    ),
    "design_crm_level": gettext_lazy(
        "level must hold 0-based dose indices in 0..%(last)s; got %(value)s for patient %(i)s, "
        "a dose the design does not have."
    ),
    "design_crm_likelihood": gettext_lazy(
        "The likelihood CRM needs at least one patient with and one without a DLT (got "
        "%(y_all)s DLTs among %(total)s patients); run a rule-based start first or use "
        "method='bayes'."
    ),
    "design_crm_method": gettext_lazy("method must be 'bayes' or 'mle'; got %(method)s."),
    "design_crm_mle": gettext_lazy(
        "The maximum-likelihood estimate does not exist when every patient or no patient had a "
        "DLT (got %(n_dlt)s DLTs among %(n_all)s patients); use method='bayes'."
    ),
    "design_crm_model": gettext_lazy("model must be 'empiric' or 'logistic'; got %(model)s."),
    "design_crm_nlevel": gettext_lazy("nlevel must be a positive integer; got %(nlevel)s."),
    "design_crm_nu": gettext_lazy(
        "nu is the 1-based prior MTD level and must lie in 1..%(nlevel)s; got %(nu)s."
    ),
    "design_crm_patients": gettext_lazy(
        "tox and level must have one entry per patient; got %(n_tox)s DLT indicators and "
        "%(n_level)s dose levels."
    ),
    "design_crm_table_cohorts": gettext_lazy(
        "n_cohorts must be at most 4 (the table grows as (cohort_size + 1) ** n_cohorts); got "
        "%(n_cohorts)s."
    ),
    "design_crm_tox": gettext_lazy(
        "tox must hold 0 or 1 per patient; got %(value)s for patient %(i)s."
    ),
    "design_current_not_integer": gettext_lazy(
        "current dose must be an integer index; got %(current)s."
    ),
    "design_current_out_of_range": gettext_lazy(
        "current dose %(current)s (0-based) is not one of the %(n_doses)s dose levels 0..%(last)s."
    ),
    "design_data_dose_count": gettext_lazy(
        "Got data for %(count)s dose levels but the design has %(n_doses)s; give one entry per "
        "dose level, in increasing order."
    ),
    "design_data_item": gettext_lazy(
        "Dose %(i)s: expected (treated, dlts) or DoseData; got %(d)s."
    ),
    "design_data_item_both": gettext_lazy(
        "Dose %(i)s: expected (treated, dlts, responses) or (treated, dlts, responses, both); "
        "got %(d)s."
    ),
    "design_data_item_efftox": gettext_lazy(
        "Dose %(i)s: expected (treated, dlts, responses) or EffToxData; got %(d)s."
    ),
    "design_data_text_empty": gettext_lazy(
        "Dose data is empty: got %(text)s. Give treated/DLTs per dose, e.g. '3/0,3/1,0/0'."
    ),
    "design_data_text_item": gettext_lazy(
        "Dose %(i)s in the data: expected 'treated/DLTs' (or 'treated/DLTs/pending') with "
        "non-negative integers; got %(item)s."
    ),
    "design_dlt_window": gettext_lazy(
        "The DLT window must be a positive number of days; got %(window_days)s."
    ),
    "design_dlts_exceed_treated": gettext_lazy(
        "Dose %(dose)s: %(dlts)s DLTs among %(treated)s treated patients; DLTs cannot exceed "
        "the number treated."
    ),
    "design_eff_tox_sizes": gettext_lazy(
        "eff has %(n_eff)s doses but tox has %(n_tox)s; give one probability per dose in both."
    ),
    "design_ewoc_alpha": gettext_lazy(
        "alpha (the feasibility bound) must lie in (0, 0.5]; got %(alpha)s."
    ),
    "design_ewoc_bounds": gettext_lazy(
        "min_dose and max_dose must bracket the doses with min_dose < max_dose; got "
        "min_dose=%(lo)s, max_dose=%(hi)s for doses %(doses)s."
    ),
    "design_ewoc_doses": gettext_lazy("doses must be a non-empty list of numbers; got %(doses)s."),
    "design_ewoc_doses_increasing": gettext_lazy(
        "doses must be strictly increasing; got %(value)s at dose %(i)s then %(next_value)s at "
        "dose %(next_dose)s."
    ),
    "design_ewoc_doses_needed": gettext_lazy(
        "ewoc needs the dose amounts: give parameters.doses, one per dose level."
    ),
    "design_ewoc_grid": gettext_lazy("n_grid must be an integer >= 20; got %(n_grid)s."),
    "design_ewoc_quantile": gettext_lazy(
        "select_quantile must lie in (0, 1); got %(select_quantile)s."
    ),
    "design_ewoc_rounding": gettext_lazy("rounding must be 'down' or 'nearest'; got %(rounding)s."),
    "design_follow_up_count": gettext_lazy(
        "Dose %(i)s: follow_up lists %(count)s fractions for %(pending)s pending patients; "
        "give one fraction per pending patient."
    ),
    "design_follow_up_fraction": gettext_lazy(
        "Dose %(i)s: follow-up fractions must lie in [0, 1) (the share of the DLT window "
        "observed); got %(f)s."
    ),
    "design_i3plus3_extrasafe": gettext_lazy(
        "I3Plus3 does not implement extrasafe; got extrasafe=True. Use BOIN or Keyboard for "
        "the extra-safe stopping rule."
    ),
    "design_i3plus3_margins": gettext_lazy(
        "I3Plus3 margins must be at least 10%% of the target (%(minimum)s); got "
        "margin_l=%(margin_l)s, margin_r=%(margin_r)s."
    ),
    "design_integer": gettext_lazy("%(name)s must be an integer; got %(v)s."),
    "design_interval_cutoff": gettext_lazy(
        "%(name)s cutoff_eli must lie in (0.5, 1); got %(cutoff_eli)s."
    ),
    "design_interval_offset": gettext_lazy("%(name)s offset must lie in [0, 0.5); got %(offset)s."),
    "design_interval_target": gettext_lazy(
        "The target DLT rate of %(name)s must lie in [0.05, 0.6]; got %(t)s."
    ),
    "design_keyboard_margin_l": gettext_lazy(
        "%(name)s margin_l must lie in (0, target=%(t)s); got %(margin_l)s."
    ),
    "design_keyboard_margin_r": gettext_lazy(
        "%(name)s margin_r must lie in (0, 1 - target=%(high)s); got %(margin_r)s."
    ),
    "design_monitor_cohort": gettext_lazy("Cohort %(name)s: %(detail)s"),
    "design_monitor_cohort_pair": gettext_lazy(
        "Cohort %(name)s: expected (responses, treated); got %(pair)s."
    ),
    "design_monitor_first_look": gettext_lazy(
        "first_look must lie in 1..%(nm)s; got %(first_look)s."
    ),
    "design_monitor_looks": gettext_lazy(
        "looks must be increasing sample sizes in 1..%(nmax)s; got %(looks)s."
    ),
    "design_monitor_n": gettext_lazy(
        "n=%(n)s patients exceed the maximum sample size nmax=%(nmax)s."
    ),
    "design_monitor_nmax": gettext_lazy("nmax must be at least 1; got %(nmax)s."),
    "design_monitor_nmax_values": gettext_lazy("nmax must be integers >= 2; got %(nmax)s."),
    "design_monitor_no_cohort": gettext_lazy(
        "data must hold at least one cohort: {name: (responses, treated)}."
    ),
    "design_monitor_no_rate": gettext_lazy(
        "rates must give at least one cohort: {name: true response rate}."
    ),
    "design_monitor_rates": gettext_lazy("p1 must exceed p0; got p0=%(p0)s and p1=%(p1)s."),
    "design_monitor_theta_l": gettext_lazy("theta_l must lie in [0, 1); got %(theta_l)s."),
    "design_monitor_theta_l_values": gettext_lazy(
        "theta_l values must lie in [0, 1); got %(values)s."
    ),
    "design_monitor_theta_u": gettext_lazy("theta_u must lie in (theta_l, 1]; got %(theta_u)s."),
    "design_monitor_thetas": gettext_lazy(
        "Need 0 <= theta_l < theta_u <= 1; got theta_l=%(theta_l)s, theta_u=%(theta_u)s."
    ),
    "design_monitor_x": gettext_lazy("x=%(x)s responses exceed the n=%(n)s patients observed."),
    "design_no_data": gettext_lazy("data must hold one entry per dose level; got none."),
    "design_non_negative_integer": gettext_lazy(
        "%(name)s must be a non-negative integer; got %(v)s."
    ),
    "design_not_live": gettext_lazy(
        "Design %(name)s gives no live decision for a single-agent cohort from its DLT data; "
        "choose one of %(choices)s."
    ),
    "design_outcomes_cohort": gettext_lazy(
        "Cohort %(number)s of the outcomes, %(cohort)s: expected a dose number followed by "
        "letters N, E, T or B (e.g. '2NTE')."
    ),
    "design_outcomes_dose": gettext_lazy(
        "Cohort %(number)s of the outcomes, %(cohort)s: dose %(dose)s is not one of the "
        "%(n_doses)s dose levels 1..%(n_doses)s."
    ),
    "design_patients_multiple": gettext_lazy(
        "n_patients must be a multiple of cohort_size; got n_patients=%(n_patients)s and "
        "cohort_size=%(cohort_size)s."
    ),
    "design_pending_exceeds": gettext_lazy(
        "Dose %(i)s: %(pending)s pending patients but only %(without_dlt)s treated without a "
        "DLT; pending patients are counted in treated."
    ),
    "design_positive_number": gettext_lazy(
        "%(name)s must be a positive finite number; got %(value)s."
    ),
    "design_probabilities_empty": gettext_lazy(
        "%(name)s must be a non-empty list of probabilities; got %(values)s."
    ),
    "design_probabilities_increasing": gettext_lazy(
        "%(name)s must be strictly increasing; got %(value)s at dose %(i)s then %(next_value)s "
        "at dose %(next_dose)s in %(values)s."
    ),
    "design_probabilities_range": gettext_lazy(
        "%(name)s must hold probabilities in (0, 1); got %(value)s at dose %(i)s (0-based) in "
        "%(values)s."
    ),
    "design_probability": gettext_lazy("%(name)s must lie in (0, 1); got %(value)s."),
    "design_rds_additive_utility": gettext_lazy(
        "The RDS table is indexed by marginal counts and needs an additive utility (u_neither "
        "+ u_both = 100); got u_neither=%(u_neither)s, u_both=%(u_both)s."
    ),
    "design_responses_range": gettext_lazy(
        "Dose %(dose)s: responses must lie between 0 and treated=%(treated)s; got "
        "responses=%(responses)s."
    ),
    "design_sample_sizes_empty": gettext_lazy(
        "sample_sizes must list at least one sample size; got none."
    ),
    "design_scenario_doses": gettext_lazy(
        "%(where)s: truth has %(size)s doses but scenarios[0] has %(n_doses)s; every scenario "
        "must cover the same dose levels."
    ),
    "design_scenario_mapping": gettext_lazy(
        "%(where)s must be a mapping with a 'truth' list; got %(item)s."
    ),
    "design_scenario_truth": gettext_lazy("%(where)s: %(detail)s"),
    "design_scenarios_list": gettext_lazy(
        "%(source)s: 'scenarios' must be a non-empty list of {name, truth} entries; got %(items)s."
    ),
    "design_scenarios_seed": gettext_lazy(
        "%(source)s: seed must be a non-negative integer; got %(seed)s."
    ),
    "design_scenarios_syntax": gettext_lazy("%(name)s: not valid JSON/YAML (%(detail)s)."),
    "design_scenarios_target": gettext_lazy("%(source)s: target must be a number; got %(target)s."),
    "design_scenarios_target_range": gettext_lazy(
        "%(source)s: target must lie in (0, 1); got %(target)s."
    ),
    "design_scenarios_top": gettext_lazy(
        "%(source)s: the top level must be a mapping; got %(kind)s."
    ),
    "design_simon_bounds": gettext_lazy(
        "Need 0 < n1 < n, -1 <= r1 < n1 and r1 <= r < n; got r1=%(r1)s, n1=%(n1)s, r=%(r)s, "
        "n=%(n)s."
    ),
    "design_simon_nmax": gettext_lazy(
        "nmax must be an integer in 2..1000 (as clinfun); got %(nmax)s."
    ),
    "design_simon_none": gettext_lazy(
        "No two-stage design with n <= %(nmax)s meets alpha < %(alpha)s and beta < %(beta)s "
        "for p0=%(p0)s, p1=%(p1)s; increase nmax (at most 1000)."
    ),
    "design_simon_rates": gettext_lazy(
        "p1 (the desirable response rate) must exceed p0 (the uninteresting rate); got "
        "p0=%(p0)s and p1=%(p1)s."
    ),
    "design_single_stage_none": gettext_lazy(
        "No single-stage design with n <= %(nmax)s; increase nmax."
    ),
    "design_single_stage_solutions": gettext_lazy(
        "n_solutions must be a positive integer; got %(n_solutions)s."
    ),
    "design_single_stage_tolerance": gettext_lazy(
        "tolerance must lie in [0, 0.5); got %(tolerance)s."
    ),
    "design_start_dose": gettext_lazy(
        "start_dose must be a 0-based dose index in 0..%(last)s; got %(start_dose)s."
    ),
    "design_table_n": gettext_lazy("n must be between 1 and %(max_n)s for this table; got %(n)s."),
    "design_table_y": gettext_lazy("y must be between 0 and n=%(n)s; got %(y)s."),
    "design_tite_boin_max_pending": gettext_lazy(
        "TITE-BOIN max_pending must lie in (0, 1]; got %(max_pending)s."
    ),
    "design_titecrm_accrual": gettext_lazy(
        "accrual must be 'fixed' or 'poisson'; got %(accrual)s."
    ),
    "design_titecrm_follow_up_count": gettext_lazy(
        "Dose %(k)s: follow_up must give one fraction per pending patient; got %(count)s "
        "values for pending=%(pending)s."
    ),
    "design_titecrm_follow_up_fraction": gettext_lazy(
        "Dose %(k)s: follow_up fractions must lie in [0, 1]; got %(value)s."
    ),
    "design_titecrm_followup": gettext_lazy(
        "followup must be non-negative times; got %(value)s for patient %(i)s."
    ),
    "design_titecrm_followup_count": gettext_lazy(
        "followup must have one entry per patient; got %(n_followup)s follow-up times for "
        "%(n_patients)s patients."
    ),
    "design_titecrm_pending_exceeds": gettext_lazy(
        "Dose %(k)s: pending=%(pending)s exceeds the %(without_dlt)s treated patients without "
        "a DLT; pending patients are counted in treated."
    ),
    "design_titecrm_scheme": gettext_lazy("scheme must be 'linear' or 'adaptive'; got %(scheme)s."),
    "design_titecrm_weights": gettext_lazy(
        "weights must lie in [0, 1]; got %(value)s for patient %(i)s."
    ),
    "design_titecrm_weights_count": gettext_lazy(
        "weights must have one entry per patient; got %(n_weights)s weights for %(n_patients)s "
        "patients."
    ),
    "design_titecrm_weights_needed": gettext_lazy(
        "titecrm needs either weights, or followup and obswin to compute them."
    ),
    "design_truth_decreasing": gettext_lazy(
        "%(name)s must be non-decreasing in dose; got %(rate)s at dose %(dose)s then "
        "%(next_rate)s at dose %(next_dose)s. Order the doses from lowest to highest."
    ),
    "design_truth_doses": gettext_lazy(
        "truth has %(size)s dose levels but the design has %(k)s doses; give one true rate per "
        "dose."
    ),
    "design_truth_empty": gettext_lazy(
        "%(name)s must be a non-empty list of DLT probabilities, one per dose; got %(truth)s."
    ),
    "design_truth_probability": gettext_lazy(
        "%(name)s[%(i)s] (dose %(dose)s) must be a probability in [0, 1]; got %(value)s."
    ),
    "design_truth_skeleton": gettext_lazy(
        "truth has %(size)s dose levels but the skeleton has %(k)s; give one true rate per dose."
    ),
    "design_uniforms_shape": gettext_lazy("uniforms must have shape %(expected)s; got %(shape)s."),
    "design_unknown": gettext_lazy("Unknown design %(name)s; choose one of %(choices)s."),
    "design_value_integer_min": gettext_lazy(
        "%(name)s must be an integer >= %(minimum)s; got %(value)s."
    ),
    "design_value_number_range": gettext_lazy(
        "%(name)s must be a number in (%(low)s, %(high)s); got %(value)s."
    ),
    "design_value_range": gettext_lazy("%(name)s must lie in (%(low)s, %(high)s); got %(value)s."),
}


def design_error(exc: OncotrialsError) -> OncotrialsError:
    """The engine's refusal ``exc`` worded in the active language (same class, code and
    values; the help of a missing parameter in that language too, and the refusal it wraps,
    ``inner_code`` and ``inner``, worded in turn)."""
    if "help" in exc.extra:
        exc = copy.copy(exc)
        exc.extra = {**exc.extra, "help": param_help(str(exc.extra["help"]))}
    inner_code, inner = exc.extra.get("inner_code"), exc.extra.get("inner")
    if isinstance(inner_code, str) and isinstance(inner, Mapping):
        wrapped = OncotrialsError(str(exc.extra.get("detail", "")), code=inner_code, **inner)
        exc = copy.copy(exc)
        exc.extra = {**exc.extra, "detail": design_message(wrapped)}
    return translated(exc, DESIGN_MESSAGES)


def design_message(exc: OncotrialsError) -> str:
    """The text of ``design_error(exc)``."""
    return design_error(exc).message


@contextmanager
def design_errors_translated() -> Iterator[None]:
    """Raise the engine's refusals of the block again worded in the active language."""
    try:
        yield
    except OncotrialsError as exc:
        out = design_error(exc)
        if out is exc:
            raise
        raise out from exc


#: Why a design decided as it did (``Decision.explained``, codes of ``core.designs.reasons``),
#: in the user's language; "dose N" stays as is, for the page to name the trial's level.
REASON_MESSAGES: Catalogue = {
    "lowest_overly_toxic": gettext_lazy(
        "The lowest dose is overly toxic (%(dlts)s/%(treated)s DLTs); stop the trial, no MTD."
    ),
    "untreated_next_cohort": gettext_lazy(
        "No patient treated yet at dose %(dose)s; treat the next cohort there."
    ),
    "untreated_next_cohort_short": gettext_lazy(
        "No patient yet at dose %(dose)s; treat the next cohort there."
    ),
    "max_sample_select": gettext_lazy(
        "The maximum sample size (%(size)s) is reached; select dose %(mtd)s as the MTD."
    ),
    "max_sample_none": gettext_lazy(
        "The maximum sample size (%(size)s) is reached; no dose is selected."
    ),
    "eliminate_current": gettext_lazy(
        "%(y)s/%(n)s DLTs at dose %(dose)s: P(DLT rate > %(target)s) > %(cutoff)s; eliminate "
        "dose %(dose)s and higher doses, de-escalate to dose %(next)s."
    ),
    "eliminate_above": gettext_lazy(
        "Dose %(first)s (%(dlts)s/%(treated)s DLTs) is eliminated with every higher dose, "
        "including dose %(dose)s; go to dose %(next)s."
    ),
    "earlystop_select": gettext_lazy(
        "%(count)s patients at dose %(dose)s reach n_earlystop=%(n_earlystop)s; stop and "
        "select dose %(mtd)s."
    ),
    "earlystop_none": gettext_lazy(
        "%(count)s patients at dose %(dose)s reach n_earlystop=%(n_earlystop)s; stop and "
        "select none."
    ),
    "observed": gettext_lazy("%(y)s/%(n)s DLTs at dose %(dose)s: %(action)s."),
    "escalate_to": gettext_lazy("escalate to dose %(dose)s"),
    "deescalate_to": gettext_lazy("de-escalate to dose %(dose)s"),
    "stay_highest": gettext_lazy("stay (highest dose)"),
    "stay_next_eliminated": gettext_lazy("stay (the next dose is eliminated)"),
    "stay_lowest": gettext_lazy("stay (already at the lowest dose)"),
    "stay_at": gettext_lazy("stay at dose %(dose)s"),
    "tite_eliminated": gettext_lazy(
        "Dose %(first)s and higher are overly toxic; de-escalate to dose %(next)s."
    ),
    "tite_max_sample_select": gettext_lazy(
        "The maximum sample size is reached and every patient is evaluated; select dose %(mtd)s."
    ),
    "tite_max_sample_none": gettext_lazy(
        "The maximum sample size is reached and every patient is evaluated; select none."
    ),
    "tite_too_many_pending": gettext_lazy(
        "%(pending)s of %(treated)s patients at dose %(dose)s are still pending (more than "
        "%(share)s); suspend accrual until more are evaluated."
    ),
    "tite_lowest_pending": gettext_lazy(
        "p_hat=%(p_hat)s at the lowest dose with %(pending)s pending; wait for their follow-up."
    ),
    "tite_earlystop_select": gettext_lazy(
        "%(count)s patients at dose %(dose)s reach n_earlystop and the decision is to stay; "
        "stop and select dose %(mtd)s."
    ),
    "tite_earlystop_none": gettext_lazy(
        "%(count)s patients at dose %(dose)s reach n_earlystop and the decision is to stay; "
        "stop and select none."
    ),
    "tite_observed": gettext_lazy(
        "%(dlts)s DLTs, %(pending)s pending among %(treated)s at dose %(dose)s: %(action)s."
    ),
    "tpt_untreated": gettext_lazy("No patient yet at dose %(dose)s; treat 3 there."),
    "tpt_lowest_toxic": gettext_lazy(
        "%(y)s/%(n)s DLTs at the lowest dose: stop the trial, no MTD."
    ),
    "tpt_mtd": gettext_lazy("%(y)s/%(n)s DLTs at dose %(dose)s: stop; dose %(mtd)s is the MTD."),
    "tpt_escalate": gettext_lazy("%(y)s/%(n)s DLTs at dose %(dose)s: escalate to dose %(next)s."),
    "tpt_exceed": gettext_lazy(
        "%(y)s/%(n)s DLTs at dose %(dose)s exceed the MTD: treat 3 more at dose %(next)s."
    ),
    "tpt_stay": gettext_lazy("%(y)s/%(n)s DLTs at dose %(dose)s: treat 3 more at dose %(dose)s."),
    "model_untreated_cohort": gettext_lazy(
        "No patient treated yet; treat the first cohort at dose %(dose)s."
    ),
    "model_untreated_patient": gettext_lazy(
        "No patient treated yet; treat the first patient at dose %(dose)s."
    ),
    "crm_safety_stop": gettext_lazy(
        "P(DLT rate at the lowest dose > %(target)s) = %(p)s exceeds the safety threshold "
        "%(threshold)s: stop, no dose is safe."
    ),
    "crm_max_n": gettext_lazy(
        "Sample size reached (%(total)s of %(max_n)s); the MTD estimate is dose %(mtd)s."
    ),
    "crm_stop_n": gettext_lazy(
        "Dose %(dose)s already has %(count)s patients (stop_n_at_dose=%(stop_n)s); the MTD "
        "estimate is dose %(dose)s."
    ),
    "crm_posterior_mean": gettext_lazy(
        "Posterior mean of beta %(beta)s; DLT estimates [%(estimates)s] for target %(target)s."
    ),
    "crm_posterior_mle": gettext_lazy(
        "Posterior MLE of beta %(beta)s; DLT estimates [%(estimates)s] for target %(target)s."
    ),
    "titecrm_posterior": gettext_lazy(
        "TITE-CRM posterior mean of beta %(beta)s with %(pending)s pending patient(s) weighted "
        "by follow-up; DLT estimates [%(estimates)s] for target %(target)s."
    ),
    "ewoc_stop": gettext_lazy(
        "P(DLT rate at the first dose > %(target)s) = %(p)s exceeds %(threshold)s: stop."
    ),
    "ewoc_next": gettext_lazy(
        "P(MTD < dose %(dose)s) = %(p)s <= alpha %(alpha)s; posterior mean DLT probability "
        "there %(pdlt)s."
    ),
    "mtd_isotonic": gettext_lazy(
        "dose %(dose)s: isotonic estimate closest to the target %(target)s"
    ),
    "mtd_none": gettext_lazy("no dose selected"),
    "mtd_none_lowest_toxic": gettext_lazy("no dose selected: the lowest dose is overly toxic"),
    "mtd_none_untreated": gettext_lazy("no dose selected: no patient has been treated"),
    "mtd_none_inadmissible": gettext_lazy(
        "no dose selected: no admissible dose meets the selection rule"
    ),
    "obd_utility": gettext_lazy(
        "dose %(dose)s: the largest posterior mean utility among admissible doses at or below "
        "the MTD (dose %(mtd)s)"
    ),
    "obd_none_inadmissible": gettext_lazy(
        "no dose selected: no admissible dose at or below the MTD"
    ),
}

#: The rule that decided (``Decision.rule_explained``, ``RULES`` of ``core.designs.reasons``),
#: in the user's language; "dose N" stays as is, for the page to name the trial's level.
RULE_MESSAGES: Catalogue = {
    # the parts, each worded, joined by RULE_PARTS_SEPARATOR: nothing of its own to translate
    "rule_parts": "%(parts)s",
    "rule_n": gettext_lazy("n=%(n)s"),
    "rule_untreated": gettext_lazy("n=0"),
    "rule_eliminate_if": gettext_lazy("n=%(n)s: eliminate if DLTs >= %(dlts)s"),
    "rule_escalate_if": gettext_lazy("escalate if DLTs <= %(dlts)s"),
    "rule_deescalate_if": gettext_lazy("de-escalate if DLTs >= %(dlts)s"),
    "rule_eliminate_if_part": gettext_lazy("eliminate if DLTs >= %(dlts)s"),
    "rule_observed_letter": gettext_lazy("observed %(y)s -> %(letter)s"),
    "rule_tpt_untreated": gettext_lazy("n=0: treat 3"),
    "rule_tpt_at": gettext_lazy("%(y)s/%(n)s at dose %(dose)s"),
    "rule_tpt_lowest_toxic": gettext_lazy("%(y)s/%(n)s at dose %(dose)s: >= 2 DLTs at dose 1"),
    "rule_tpt_escalate_3": gettext_lazy("%(y)s/%(n)s at dose %(dose)s: 0/3"),
    "rule_tpt_escalate_6": gettext_lazy("%(y)s/%(n)s at dose %(dose)s: <= 1/6"),
    "rule_tpt_exceed": gettext_lazy("%(y)s/%(n)s at dose %(dose)s: >= 2 DLTs"),
    "rule_tpt_stay": gettext_lazy("%(y)s/%(n)s at dose %(dose)s: 1/3"),
    "rule_tite_elimination": gettext_lazy("elimination (full n)"),
    "rule_tite_sample_size": gettext_lazy("sample size"),
    "rule_tite_too_many_pending": gettext_lazy("n_pending > %(share)s * n"),
    "rule_tite_boundaries": gettext_lazy(
        "ESS=%(ess)s, p_hat=%(p_hat)s; %(escalate)s, %(deescalate)s"
    ),
    "rule_tite_escalate_if": gettext_lazy("escalate if p_hat <= %(p_hat)s"),
    "rule_tite_deescalate_if": gettext_lazy("de-escalate if p_hat >= %(p_hat)s"),
    "rule_crm_safety_stop": gettext_lazy("safety stop"),
    "rule_crm_model": gettext_lazy(
        "model recommends dose %(dose)s (estimate %(estimate)s closest to target)"
    ),
    "rule_crm_coherence": gettext_lazy(
        "coherence: no escalation after a cohort at or above the target rate"
    ),
    "rule_no_skipping": gettext_lazy("no skipping: at most one level up"),
    "rule_crm_max_n": gettext_lazy("max_n=%(max_n)s; selected dose %(dose)s"),
    "rule_crm_stop_n": gettext_lazy("stop_n_at_dose=%(stop_n)s; selected dose %(dose)s"),
    "rule_titecrm_model": gettext_lazy("model recommends dose %(dose)s"),
    "rule_ewoc_stop": gettext_lazy("EWOC stopping rule"),
    "rule_ewoc_quantile": gettext_lazy(
        "%(alpha)s-quantile of the MTD = %(quantile)s -> dose %(dose)s"
    ),
}

#: Between the parts of a rule ("n=3; escalate if DLTs <= 0"), as the engine joins them.
RULE_PARTS_SEPARATOR = pgettext_lazy("between the parts of a design rule", "; ")


def _value_text(value: object) -> object:
    if isinstance(value, Explanation):
        return explanation_text(value)
    if isinstance(value, tuple) and all(isinstance(v, Explanation) for v in value):
        return str(RULE_PARTS_SEPARATOR).join(explanation_text(v) for v in value)
    return value


def explanation_text(explained: Explanation) -> str:
    """An explanation (a reason or a rule) worded in the active language (the engine's English
    for a code missing here, or a wording that names a value the explanation does not carry)."""
    values = {k: _value_text(v) for k, v in explained.values}
    template = REASON_MESSAGES.get(explained.code) or RULE_MESSAGES.get(explained.code)
    if template is None:
        return str(explained)
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(explained)


def decision_reason(decision: Decision) -> str:
    """The reason of a design's decision in the active language (its English text when the
    design does not explain it by code)."""
    if decision.explained is None:
        return decision.reason
    return explanation_text(decision.explained)


def decision_rule(decision: Decision) -> str:
    """The rule that decided, in the active language (its English text when the design does
    not explain it by code)."""
    if decision.rule_explained is None:
        return decision.rule
    return explanation_text(decision.rule_explained)


def selection_reason(selection: MTDSelection | OBDSelection) -> str:
    """Why an end-of-trial selection chose its dose (or none), in the active language (its
    English text when the design does not explain it by code)."""
    if selection.explained is None:
        return selection.reason
    return explanation_text(selection.explained)
