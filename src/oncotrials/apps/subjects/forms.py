"""Web forms of the patient journey; each one feeds exactly one service."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.widgets import IsoDateInput
from oncotrials.core.grading import ANALYTES

from .models import (
    CONSENT_OPTION_LABELS,
    MAX_PRIOR_LINE,
    BestResponse,
    LineSetting,
    ReferralSource,
    RegistrationStatus,
    ScreenFailureReason,
    ScreeningKind,
    Sex,
    VisitOutcome,
    WithdrawalScope,
    consent_option_label,
)

DATE = IsoDateInput()
CHOOSE = ("", "—")  # a choice with no clinical default: the user must pick one


def _set_choices(form: forms.Form, name: str, choices: Any) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class ReferralForm(forms.Form):
    site = forms.ChoiceField(label=_("Site"))
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    birth_date = forms.DateField(label=_("Birth date"), widget=DATE)
    hospital_number = forms.CharField(label=_("Hospital number"), max_length=40)
    sex = forms.ChoiceField(label=_("Sex"), choices=[CHOOSE, *Sex.choices])
    diagnosis = forms.CharField(label=_("Diagnosis (OncoTree code)"), max_length=20, required=False)
    referral_source = forms.ChoiceField(
        label=_("Referred by"), choices=[CHOOSE, *ReferralSource.choices]
    )
    referral_date = forms.DateField(label=_("Referral date"), widget=DATE)
    referred_by = forms.CharField(label=_("Referring physician"), max_length=200, required=False)

    def __init__(self, *args: Any, sites: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "site", sites)


class PatientPageForm(forms.Form):
    """A form of the patient page: its fields' ids start with ``id_prefix``, so that the page's
    forms (several have a date ``on`` or a ``reason``) never share an id."""

    id_prefix = "patient"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class ConsentForm(PatientPageForm):
    """The consent of a patient to an ICF version in force; its optional consents are those the
    versions declare (a box named by its key), each marked with the versions that declare it, and a
    ticked option the chosen version does not declare is refused next to it."""

    id_prefix = "consent"

    form = forms.ChoiceField(label=_("Consent form version"))
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)

    def __init__(
        self,
        *args: Any,
        forms_in_force: list[tuple[Any, str]],
        options_by_form: dict[int, list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.options_by_form = dict(options_by_form or {})
        choices = [(pk, label) for pk, label in forms_in_force if pk != ""]
        _set_choices(self, "form", [CHOOSE, *choices] if len(choices) > 1 else choices)
        self.fields["form"].widget.attrs["data-consent-version"] = ""
        keys = list(dict.fromkeys(k for opts in self.options_by_form.values() for k in opts))
        self.option_keys = [k for k in keys if k not in self.fields]
        for key in self.option_keys:
            versions = [str(pk) for pk, opts in self.options_by_form.items() if key in opts]
            self.fields[key] = forms.BooleanField(
                label=consent_option_label(key),
                required=False,
                widget=forms.CheckboxInput({"data-consent-option": " ".join(versions)}),
            )

    def granted(self) -> dict[str, bool]:
        """The ticked optional consents (key -> True)."""
        return {key: True for key in self.option_keys if self.cleaned_data.get(key)}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("form")
        if not chosen:
            return data
        declared = self.options_by_form.get(int(chosen), [])
        for key in self.granted():
            if key not in declared:
                self.add_error(
                    key,
                    _(
                        "The chosen consent form version does not offer this option; untick it"
                        " or choose a version that offers it."
                    ),
                )
        # A ticked option that no version in force offers is not dropped without a word.
        posted = [k for k in CONSENT_OPTION_LABELS if k not in self.fields and self.data.get(k)]
        for key in posted:
            self.add_error(
                None,
                _(
                    "The chosen consent form version does not offer “%(option)s”; nothing was"
                    " recorded. Record the consent on a version that offers it."
                )
                % {"option": consent_option_label(key)},
            )
        return data


class WithdrawForm(PatientPageForm):
    id_prefix = "withdraw"
    consent = forms.ChoiceField(label=_("Consent"))
    on = forms.DateField(label=_("Withdrawn on"), widget=DATE)
    scope = forms.MultipleChoiceField(
        label=_("Scope (none ticked: full withdrawal)"),
        choices=WithdrawalScope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label=_("Reason given"), max_length=2000)

    def __init__(self, *args: Any, consents: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "consent", consents)


class ScreeningStartForm(PatientPageForm):
    id_prefix = "screening"
    trial = forms.ChoiceField(label=_("Trial"))
    kind = forms.ChoiceField(label=_("Kind"), choices=[CHOOSE, *ScreeningKind.choices])
    started_on = forms.DateField(label=_("Started on"), widget=DATE)

    def __init__(self, *args: Any, trials: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "trial", trials)


class ScreeningCloseForm(PatientPageForm):
    id_prefix = "screening-close"
    episode = forms.ChoiceField(label=_("Screening"))
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("eligible", _("Eligible")), ("failed", _("Screen failure"))]
    )
    failure_reason = forms.ChoiceField(
        label=_("Failure reason"), choices=[("", "—"), *ScreenFailureReason.choices], required=False
    )
    closed_on = forms.DateField(label=_("Closed on"), widget=DATE)

    def __init__(self, *args: Any, episodes: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "episode", episodes)


class RegistrationForm(PatientPageForm):
    """The cohorts (and dose levels) the patient may be registered to; with ``overrides``, an
    investigator may also choose a level other than the escalation's, giving the reason."""

    id_prefix = "registration"

    cohort = forms.ChoiceField(label=_("Cohort / dose level"))
    registered_on = forms.DateField(label=_("Registered on"), widget=DATE)
    dose_override_reason = forms.CharField(
        label=_("Reason for a dose level other than the escalation's (investigator)"),
        max_length=500,
        required=False,
    )

    def __init__(
        self, *args: Any, targets: list[tuple[str, str]], overrides: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "cohort", targets)
        if not overrides:
            del self.fields["dose_override_reason"]


class RandomiseForm(PatientPageForm):
    """Randomise the patient in one trial: its scheme's stratification factors, the date."""

    trial = forms.ChoiceField(widget=forms.HiddenInput)
    registered_on = forms.DateField(label=_("Randomised on"), widget=DATE)

    def __init__(
        self,
        *args: Any,
        trial: tuple[int, str],
        factors: dict[str, list[str]],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", f"randomise-{trial[0]}-%s")
        super().__init__(*args, **kwargs)
        self.trial_id, self.trial_label, self.factors = trial[0], trial[1], factors
        _set_choices(self, "trial", [(trial[0], trial[1])])
        self.initial.setdefault("trial", trial[0])
        for name, levels in factors.items():
            self.fields[f"level_{name}"] = forms.ChoiceField(
                label=name, choices=[(v, v) for v in levels]
            )

    def levels(self) -> dict[str, str]:
        return {name: self.cleaned_data[f"level_{name}"] for name in self.factors}


class StatusForm(PatientPageForm):
    id_prefix = "status"
    registration = forms.ChoiceField(label=_("Registration"))
    status = forms.ChoiceField(label=_("New status"), choices=RegistrationStatus.choices)
    on = forms.DateField(label=_("Date"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, registrations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "registration", registrations)


class VisitMarkForm(forms.Form):
    """Mark one visit of one registration not done or not applicable, with a reason."""

    registration = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    code = forms.CharField(max_length=20, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Mark"),
        choices=[
            (VisitOutcome.NOT_DONE, _("Not done")),
            (VisitOutcome.NOT_APPLICABLE, _("Not applicable")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class WorklistFilterForm(forms.Form):
    """Filters of the visit work list; unknown or invalid values are ignored, never an error."""

    trial = forms.TypedChoiceField(label=_("Trial"), coerce=int, required=False, empty_value=None)
    site = forms.TypedChoiceField(label=_("Site"), coerce=int, required=False, empty_value=None)
    target_from = forms.DateField(label=_("Target from"), required=False, widget=DATE)
    target_to = forms.DateField(label=_("Target to"), required=False, widget=DATE)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            ("target", _("Target date, oldest first")),
            ("-target", _("Target date, newest first")),
        ],
    )

    def __init__(
        self, *args: Any, trials: list[tuple[int, str]], sites: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "trial", [("", _("All trials")), *trials])
        _set_choices(self, "site", [("", _("All sites")), *sites])


ECOG_CHOICES = [
    CHOOSE,
    ("0", _("0 — fully active")),
    ("1", _("1 — restricted in strenuous activity, ambulatory")),
    ("2", _("2 — ambulatory, self-care, no work; up more than half of waking hours")),
    ("3", _("3 — limited self-care; in bed or chair more than half of waking hours")),
    ("4", _("4 — completely disabled")),
    ("5", _("5 — dead")),
]


class EcogForm(PatientPageForm):
    """ECOG performance status of a patient before registration (referral, screening)."""

    id_prefix = "ecog"

    ecog = forms.ChoiceField(label=_("ECOG performance status"), choices=ECOG_CHOICES)
    ecog_on = forms.DateField(label=_("Assessed on"), widget=DATE)


class PriorLineForm(PatientPageForm):
    """A prior line of systemic therapy of a patient before registration (referral, screening);
    its fields are named as the service's, so a refusal comes back beside its field."""

    id_prefix = "prior-line"

    line = forms.IntegerField(label=_("Line number"), min_value=1, max_value=MAX_PRIOR_LINE)
    agents = forms.CharField(
        label=_("Agents"),
        max_length=300,
        help_text=_("Separated by '+' or ';', e.g. carboplatin + pemetrexed"),
    )
    setting = forms.ChoiceField(label=_("Setting"), choices=[CHOOSE, *LineSetting.choices])
    started_on = forms.DateField(label=_("Started on"), widget=DATE)
    ended_on = forms.DateField(label=_("Ended on"), widget=DATE, required=False)
    best_response = forms.ChoiceField(
        label=_("Best response"), choices=[CHOOSE, *BestResponse.choices], required=False
    )
    stop_reason = forms.CharField(label=_("Reason stopped"), max_length=200, required=False)


class BaselineLabForm(PatientPageForm):
    """A laboratory result of a patient before registration (referral, screening)."""

    id_prefix = "baseline-lab"

    analyte = forms.ChoiceField(label=_("Analyte"), choices=[CHOOSE])
    lab_value = forms.CharField(label=_("Value"), max_length=40)
    lab_unit = forms.CharField(label=_("Unit"), max_length=32)
    lab_lln = forms.CharField(label=_("Lower limit of normal"), max_length=40, required=False)
    lab_uln = forms.CharField(label=_("Upper limit of normal"), max_length=40, required=False)
    sampled_on = forms.DateField(label=_("Sampled on"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "analyte", [CHOOSE, *((a, a) for a in sorted(ANALYTES))])
        for name in ("lab_lln", "lab_uln"):
            self.fields[name].unit = _("same unit as the value")  # type: ignore[attr-defined]
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        self.fields["lab_value"].widget.attrs["inputmode"] = "decimal"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        numbers: dict[str, Decimal] = {}
        for name in ("lab_value", "lab_lln", "lab_uln"):
            text = (data.get(name) or "").strip()
            if not text:
                continue
            try:
                number = Decimal(text.replace(",", "."))
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite():
                self.add_error(
                    name,
                    forms.ValidationError(
                        _("Enter a number, e.g. 1.5; got “%(value)s”."), params={"value": text}
                    ),
                )
            else:
                numbers[name] = number
        lo, hi = numbers.get("lab_lln"), numbers.get("lab_uln")
        if lo is not None and hi is not None and lo >= hi:
            self.add_error("lab_uln", _("The upper limit of normal must be above the lower limit."))
        return data
