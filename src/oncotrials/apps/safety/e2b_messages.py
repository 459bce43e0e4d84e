"""The E2B(R3) builder's refusals in the user's language.

``oncotrials.core.e2b`` (no Django there) refuses an ICSR with a stable code, the E2B field in
``extra["field"]`` and the values the message names. This is the one place that words them; a
code it does not know keeps the core's English.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue

E2B_MESSAGES: Catalogue = {
    "e2b_not_in_code_list": _("%(field_value)s must be one of %(table)s; got %(value)s."),
    "e2b_safety_report_identifier_c": _("The safety report identifier (C.1.1) is empty."),
    "e2b_version_below_one": _("version must be 1 or more; got %(version)s."),
    "e2b_created_c_carry_time": _("created_at (C.1.2) must carry its time zone."),
    "e2b_date_most_recent_information": _(
        "The date of most recent information (C.1.5, %(most_recent_information)s) is before "
        "the date first received (C.1.4, %(first_received)s)."
    ),
    "e2b_no_reaction": _("An ICSR needs at least one reaction (E.i)."),
    "e2b_no_drug": _("An ICSR needs at least one drug (G.k)."),
    "e2b_seriousness_criteria_among": _(
        "Seriousness criteria must be among %(seriousness)s; got %(unknown)s."
    ),
    "e2b_characters_long_e2b_r3": _(
        "%(name)s is %(n_value)s characters long; E2B(R3) allows %(max)s."
    ),
    "e2b_reaction_term_reported_e": _(
        "Reaction %(uid)s: the term as reported (E.i.1.1a) must have 1 to %(max_length)s "
        "characters; got %(n_strip)s."
    ),
    "e2b_reaction_ends_before_starts": _(
        "Reaction %(term)s ends (%(end)s) before it starts (%(start)s)."
    ),
    "e2b_drug_product_name_g": _(
        "Drug %(uid)s: the product name (G.k.2.2) must have 1 to %(max_length)s characters."
    ),
    "e2b_nullification_amendment_needs_reason": _(
        "A nullification or amendment needs its reason (C.1.11.2)."
    ),
    "e2b_drug_dose_unit_ucum": _(
        "Drug %(name)s: the dose unit %(dose_unit)s is not a UCUM code (G.k.4.r.1b), e.g. mg,"
        " mg/kg, mg/m2."
    ),
    "e2b_drug_causality_assessment_names": _(
        "Drug %(name)s: a causality assessment names reaction %(reaction_uid)s, which is not "
        "in the report."
    ),
}
