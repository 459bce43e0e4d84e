"""The accrual core's refusals in the user's language.

``oncotrials.core.accrual`` (no Django there) refuses a forecast with a stable code and the values
the message names. This is the one place that words them; a code it does not know keeps the
core's English.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue

ACCRUAL_MESSAGES: Catalogue = {
    "accrual_one_count_per_centre": _(
        "One count per centre and one exposure per centre; got %(shape)s and %(shape_2)s."
    ),
    "accrual_every_centre_s_count": _("Every centre's count must be a whole number ≥ 0."),
    "accrual_every_centre_s_exposure": _("Every centre's exposure must be finite and ≥ 0."),
    "accrual_no_centre_open_yet": _("No centre has been open yet: nothing to fit."),
    "accrual_no_patient_yet": _(
        "No patient has been recruited yet: the rates cannot be estimated; use the planned "
        "rate (Gajewski's informative prior) instead."
    ),
    "accrual_no_centre_open": _(
        "No centre is open: the closed form cannot predict; simulate the planned openings."
    ),
    "accrual_least_one_draw_needed": _("At least one draw is needed; got %(draws)s."),
    "accrual_no_centre_to_simulate": _("No centre to simulate."),
    "accrual_centre_opens_after_now": _(
        "Centre %(name)s opens at %(opened)s, after now (%(now)s), yet has %(recruited)s patients."
    ),
    "accrual_now_precede_start": _("Now must not precede the start; got %(now)s."),
    "accrual_every_accrual_time_lie": _("Every accrual time must lie between the start and now."),
    "accrual_centres_counts_add_up": _(
        "The centres' counts add up to %(m)s, fewer than the %(size)s accrual times given."
    ),
    "accrual_number_accrued_negative": _("The number accrued cannot be negative; got %(accrued)s."),
    "accrual_elapsed_time_negative": _("The elapsed time cannot be negative; got %(elapsed)s."),
    "accrual_interval_level_lie": _("The interval level must lie in (0, 1); got %(level)s."),
    "accrual_prediction_time_precede_data": _(
        "The prediction time (%(at)s) must not precede the data (%(elapsed)s)."
    ),
    "accrual_target_sample_size_positive": _(
        "The target sample size must be positive; got %(target)s."
    ),
    "accrual_planned_accrual_duration_positive": _(
        "The planned accrual duration must be positive; got %(duration)s."
    ),
    "accrual_prior_certainty_p_lie": _(
        "The prior certainty P must lie in (0, 1]; got %(certainty)s."
    ),
}
