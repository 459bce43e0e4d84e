"""The patient journey: referral, identity (kept apart), consent, screening, slots, registration.

Research data is pseudonymised: a :class:`Patient` is a research identifier; names, birth date and
hospital number live in :class:`PatientIdentity`, which only authorised roles read, each read
audited.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oncotrials.apps.accounts.access import Target
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.trials.history import HistoryManager


class ReferralSource(models.TextChoices):
    TUMOUR_BOARD = "tumour_board", _("Molecular tumour board")
    DEPARTMENT = "department", _("Another department")
    PARTNER_CENTRE = "partner_centre", _("Partner centre")
    EXTERNAL = "external", _("External physician")


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "O", _("Other")
    UNKNOWN = "U", _("Unknown")


class Patient(models.Model):
    research_id = models.CharField(max_length=20, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    year_of_birth = models.PositiveSmallIntegerField()
    diagnosis = models.CharField(max_length=20, blank=True, help_text=_("OncoTree code"))
    referral_source = models.CharField(max_length=20, choices=ReferralSource.choices)
    referral_date = models.DateField()
    referred_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["created_at"], history_manager=HistoryManager)

    class Meta:
        ordering = ["research_id"]

    def __str__(self) -> str:
        return self.research_id

    def access_target(self) -> Target:
        """Its site and the trials it was screened or registered in (see accounts.access)."""
        registered = self.registrations.values_list("trial_id", flat=True).order_by()
        screened = self.screenings.values_list("trial_id", flat=True).order_by()
        return Target(self.access_sites(), frozenset(registered.union(screened)))

    def access_sites(self) -> frozenset[int]:
        """Its site: the target's sites, without the query for its trials (accounts.access)."""
        return frozenset({self.site_id})


class PatientIdentity(models.Model):
    """Identifying data, apart from research data; read through ``identity_read`` only."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="identity")
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    hospital_number = models.CharField(max_length=40)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hospital_number"], name="hospital_number_once"),
        ]

    def __str__(self) -> str:
        return f"identity of {self.patient_id}"


class ConsentKind(models.TextChoices):
    TRIAL = "trial", _("Trial consent")
    TRANSLATIONAL = "translational", _("Translational research consent")


class ConsentForm(models.Model):
    """One approved version of an informed consent form (ICF)."""

    kind = models.CharField(max_length=16, choices=ConsentKind.choices)
    trial = models.ForeignKey(
        "trials.Trial",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="consent_forms",
    )
    programme = models.CharField(max_length=100, blank=True, help_text=_("Translational programme"))
    version = models.CharField(max_length=20)
    version_date = models.DateField()
    ethics_approval_date = models.DateField()
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    options = models.JSONField(default=list, blank=True, help_text=_("Optional consents offered"))

    class Meta:
        ordering = ["trial", "programme", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="trial") & models.Q(trial__isnull=False))
                | (models.Q(kind="translational") & ~models.Q(programme="")),
                name="consent_form_names_its_trial_or_programme",
            ),
        ]

    def __str__(self) -> str:
        owner = self.trial.protocol_code if self.trial_id else self.programme  # type: ignore[union-attr]
        return f"{owner} ICF v{self.version}"


class WithdrawalScope(models.TextChoices):
    TREATMENT = "treatment", _("Study treatment")
    FOLLOW_UP = "follow_up", _("Follow-up visits")
    SAMPLES = "samples", _("Use of samples")
    DATA = "data", _("Further data collection")


# The optional consents an ICF version may declare, with their label (others show their key).
CONSENT_OPTION_LABELS = {
    "future_research": _("Future research"),
    "genetic_analysis": _("Genetic analysis"),
    "sample_storage": _("Sample storage"),
    "xenograft": _("Xenograft / animal work"),
    "outside_eu_sharing": _("Sharing outside the EU"),
    "commercial_use": _("Commercial use"),
}


def consent_option_label(key: str) -> str:
    return str(CONSENT_OPTION_LABELS.get(key, key.replace("_", " ").capitalize()))


class Consent(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="signatures")
    signed_on = models.DateField()
    obtained_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    options_granted = models.JSONField(default=dict, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_scope = models.JSONField(default=list, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    # Optional consents (translational tiers) withdrawn one by one: option -> ISO date.
    options_withdrawn = models.JSONField(default=dict, blank=True)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["patient", "signed_on"]

    def __str__(self) -> str:
        return f"{self.patient} — {self.form}"

    def options_display(self) -> list[tuple[str, bool]]:
        """(label, granted) of each optional consent, in the order of the version's declaration."""
        order = list(self.form.options) if self.form_id else []
        keys = order + [k for k in self.options_granted if k not in order]
        return [
            (consent_option_label(k), bool(self.options_granted[k]))
            for k in keys
            if k in self.options_granted
        ]


class ScreeningKind(models.TextChoices):
    PRE_SCREENING = "pre_screening", _("Molecular pre-screening")
    SCREENING = "screening", _("Screening")


class ScreeningOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    ELIGIBLE = "eligible", _("Eligible")
    FAILED = "failed", _("Screen failure")


class ScreenFailureReason(models.TextChoices):
    INCLUSION_NOT_MET = "inclusion_not_met", _("Inclusion criterion not met")
    EXCLUSION_MET = "exclusion_met", _("Exclusion criterion met")
    BIOMARKER_NEGATIVE = "biomarker_negative", _("Biomarker negative")
    ORGAN_FUNCTION = "organ_function", _("Inadequate organ function")
    PERFORMANCE_STATUS = "performance_status", _("Performance status")
    CLINICAL_DETERIORATION = "clinical_deterioration", _("Clinical deterioration")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    NO_SLOT = "no_slot", _("No slot available")
    PATIENT_DECISION = "patient_decision", _("Patient decision")
    DEATH = "death", _("Death")
    OTHER = "other", _("Other")


class ScreeningEpisode(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="screenings")
    cohort = models.ForeignKey(
        "trials.Cohort", null=True, blank=True, on_delete=models.PROTECT, related_name="screenings"
    )
    kind = models.CharField(max_length=16, choices=ScreeningKind.choices)
    started_on = models.DateField()
    outcome = models.CharField(
        max_length=10, choices=ScreeningOutcome.choices, default=ScreeningOutcome.PENDING
    )
    failure_reason = models.CharField(
        max_length=32, choices=ScreenFailureReason.choices, blank=True
    )
    closed_on = models.DateField(null=True, blank=True)
    checklist = models.JSONField(default=list, blank=True)  # [{"criterion": str, "met": bool|None}]
    notes = models.TextField(blank=True)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["-started_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.patient} / {self.trial}"


class SlotAllocation(models.Model):
    """Slots a sponsor gives the site for a cohort (and dose level), for a period."""

    cohort = models.ForeignKey(
        "trials.Cohort", on_delete=models.CASCADE, related_name="slot_allocations"
    )
    dose_level = models.ForeignKey(
        "trials.DoseLevel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="slot_allocations",
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="slot_allocations")
    slots = models.PositiveIntegerField()
    open_from = models.DateField()
    open_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["cohort", "open_from", "id"]

    def __str__(self) -> str:
        return f"{self.slots} slot(s) {self.cohort} @ {self.site}"


class BookingStatus(models.TextChoices):
    HELD = "held", _("Held")
    USED = "used", _("Used by a registration")
    RELEASED = "released", _("Released")


class SlotBooking(models.Model):
    allocation = models.ForeignKey(
        SlotAllocation, on_delete=models.PROTECT, related_name="bookings"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="slot_bookings")
    status = models.CharField(
        max_length=10, choices=BookingStatus.choices, default=BookingStatus.HELD
    )
    booked_at = models.DateTimeField()
    booked_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    released_reason = models.CharField(max_length=200, blank=True)
    # An offered (held) slot confirmed by an investigator: the patient is expected to take it.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["booked_at", "id"]

    def __str__(self) -> str:
        return f"slot of {self.patient} ({self.status})"


class WaitlistEntry(models.Model):
    cohort = models.ForeignKey("trials.Cohort", on_delete=models.CASCADE, related_name="waitlist")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waitlist_entries")
    added_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "patient"],
                condition=models.Q(active=True),
                name="waitlist_once_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.cohort}"


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ON_TREATMENT = "on_treatment", _("On treatment")
    END_OF_TREATMENT = "end_of_treatment", _("End of treatment")
    FOLLOW_UP = "follow_up", _("Follow-up")
    OFF_STUDY = "off_study", _("Off study")


REGISTRATION_TRANSITIONS: dict[str, frozenset[str]] = {
    RegistrationStatus.REGISTERED: frozenset(
        {RegistrationStatus.ON_TREATMENT, RegistrationStatus.OFF_STUDY}
    ),
    RegistrationStatus.ON_TREATMENT: frozenset({RegistrationStatus.END_OF_TREATMENT}),
    RegistrationStatus.END_OF_TREATMENT: frozenset(
        {RegistrationStatus.FOLLOW_UP, RegistrationStatus.OFF_STUDY}
    ),
    RegistrationStatus.FOLLOW_UP: frozenset({RegistrationStatus.OFF_STUDY}),
    RegistrationStatus.OFF_STUDY: frozenset(),
}


class Registration(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="registrations")
    trial = models.ForeignKey(
        "trials.Trial", on_delete=models.PROTECT, related_name="registrations"
    )
    cohort = models.ForeignKey(
        "trials.Cohort", on_delete=models.PROTECT, related_name="registrations"
    )
    dose_level = models.ForeignKey(
        "trials.DoseLevel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    screening = models.OneToOneField(
        ScreeningEpisode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registration",
    )
    booking = models.OneToOneField(
        SlotBooking, null=True, blank=True, on_delete=models.PROTECT, related_name="registration"
    )
    registered_on = models.DateField()
    registered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED
    )
    treatment_start = models.DateField(null=True, blank=True)
    status_date = models.DateField()
    status_reason = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["-registered_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "cohort"], name="one_registration_per_cohort"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} in {self.cohort}"

    def access_target(self) -> Target:
        """The patient's site and its trial (see accounts.access)."""
        return Target(frozenset({self.patient.site_id}), frozenset({self.trial_id}))


class RegistrationStatusChange(models.Model):
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="status_history"
    )
    from_status = models.CharField(max_length=20, choices=RegistrationStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=RegistrationStatus.choices)
    on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.registration}: {self.from_status or '∅'} → {self.to_status}"


class VisitOutcome(models.TextChoices):
    DONE = "done", _("Done")
    NOT_DONE = "not_done", _("Not done")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class VisitRecord(models.Model):
    """A visit of the trial's schedule (C1D1, C1D8, …): done on ``on``, or marked not done /
    not applicable (``on`` is then the day it was marked) with a reason."""

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="visits")
    code = models.CharField(max_length=20)
    on = models.DateField()
    outcome = models.CharField(
        max_length=16, choices=VisitOutcome.choices, default=VisitOutcome.DONE
    )
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "code"], name="visit_code_once")
        ]

    def __str__(self) -> str:
        return f"{self.registration} {self.code} on {self.on}"


class RandomisationMethod(models.TextChoices):
    BLOCKS = "blocks", _("Stratified permuted blocks")
    MINIMISATION = "minimisation", _("Minimisation (Pocock–Simon)")


class RandomisationScheme(models.Model):
    """How a randomised trial allocates patients to its arms (cohorts of kind 'randomised arm').

    For permuted blocks the allocation list is generated once, stored here and never shown: it is
    concealed, and only the next row is revealed, at randomisation.
    """

    trial = models.OneToOneField(
        "trials.Trial", on_delete=models.CASCADE, related_name="randomisation_scheme"
    )
    method = models.CharField(max_length=16, choices=RandomisationMethod.choices)
    arms = models.JSONField()  # {"ARM-A": 1, "ARM-B": 1}: cohort code -> ratio
    factors = models.JSONField(default=dict)  # {"ecog": ["0", "1"], ...}
    block_sizes = models.JSONField(default=list)
    p = models.FloatField(default=0.8)
    allocation_list = models.JSONField(
        default=dict, editable=False
    )  # concealed: {stratum: [arm, ...]}
    blinded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_method_display()} for {self.trial}"


class RandomisationRecord(models.Model):
    scheme = models.ForeignKey(
        RandomisationScheme, on_delete=models.PROTECT, related_name="records"
    )
    registration = models.OneToOneField(
        Registration, on_delete=models.PROTECT, related_name="randomisation"
    )
    sequence = models.PositiveIntegerField()
    stratum = models.CharField(max_length=200)
    levels = models.JSONField()
    arm = models.CharField(max_length=32)
    details = models.JSONField(default=dict)  # minimisation scores, random element, block row
    randomised_at = models.DateTimeField()

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "sequence"], name="randomisation_sequence_once"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.stratum}"


class ObservationKind(models.TextChoices):
    ECOG = "ecog", _("ECOG performance status")
    LAB = "lab", _("Laboratory result")


class BaselineObservation(models.Model):
    """ECOG performance status or a laboratory result of a patient recorded before any
    registration (referred or in screening): the case report forms and the lab series of the
    casebook belong to a registration, these to the patient. Matching and the tumour board read
    them beside the casebook's. Never changed once recorded: a correction is a new row."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="baseline_observations"
    )
    kind = models.CharField(max_length=8, choices=ObservationKind.choices)
    observed_on = models.DateField()
    analyte = models.CharField(max_length=32, blank=True)  # the core's key; empty for ECOG
    value = models.DecimalField(max_digits=16, decimal_places=6)
    unit = models.CharField(max_length=32, blank=True)
    lln = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    uln = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["patient", "-observed_on", "-id"]
        indexes = [models.Index(fields=["patient", "kind", "observed_on"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="ecog") | models.Q(value__gte=0, value__lte=5),
                name="baseline_ecog_0_to_5",
            )
        ]

    def __str__(self) -> str:
        what = "ECOG" if self.kind == ObservationKind.ECOG else self.analyte
        return f"{self.patient} {what} {self.observed_on:%Y-%m-%d}"


class LineSetting(models.TextChoices):
    METASTATIC = "metastatic", _("Metastatic")
    LOCALLY_ADVANCED = "locally_advanced", _("Locally advanced (unresectable)")
    ADJUVANT = "adjuvant", _("Adjuvant")
    NEOADJUVANT = "neoadjuvant", _("Neoadjuvant")


# The lines that count as "prior lines" for eligibility: those given for advanced disease
# (metastatic or unresectable locally advanced), not the (neo)adjuvant ones.
ADVANCED_SETTINGS: frozenset[str] = frozenset(
    {LineSetting.METASTATIC, LineSetting.LOCALLY_ADVANCED}
)


def advanced_line_count(settings: Iterable[tuple[int, str]]) -> int:
    """The number of prior lines for eligibility, from a patient's ``(line, setting)`` rows: the
    distinct line numbers given in the metastatic or locally advanced setting."""
    return len({line for line, setting in settings if setting in ADVANCED_SETTINGS})


MAX_PRIOR_LINE = 30  # a line number beyond this is a typing error, not a history


class BestResponse(models.TextChoices):
    CR = "CR", _("Complete response")
    PR = "PR", _("Partial response")
    SD = "SD", _("Stable disease")
    PD = "PD", _("Progressive disease")
    NE = "NE", _("Not evaluable")


class PriorTherapyLine(models.Model):
    """A line of systemic therapy a patient received before referral, recorded at referral or
    pre-screening with the ECOG and labs: its agents (``" + "``-joined), dates and setting.
    Matching counts the lines given for advanced disease and reads the agents as prior
    therapies; the tumour board lists them. One row per line number; never changed."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="prior_therapy_lines"
    )
    line = models.PositiveSmallIntegerField()
    agents = models.CharField(max_length=300)
    setting = models.CharField(max_length=20, choices=LineSetting.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    best_response = models.CharField(max_length=2, choices=BestResponse.choices, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["patient", "line"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "line"], name="prior_line_once"),
            models.CheckConstraint(condition=models.Q(line__gte=1), name="prior_line_from_1"),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="prior_line_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} line {self.line}: {self.agents}"

    @property
    def agent_list(self) -> list[str]:
        return self.agents.split(" + ")
