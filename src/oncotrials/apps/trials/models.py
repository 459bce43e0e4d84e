"""The trial portfolio: trials, participating sites, cohorts/arms, dose levels, status history."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oncotrials.apps.accounts.access import Target
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.core.numbers import plain

from .history import HistoryManager


class Phase(models.TextChoices):
    I_ESCALATION = "I-esc", _("I dose escalation")
    I_EXPANSION = "I-exp", _("I expansion")
    I_II = "I/II", _("I/II")
    II = "II", _("II")
    III = "III", _("III")
    IV = "IV", _("IV")
    NON_TREATMENT = "NT", _("Non-treatment")


class Modality(models.TextChoices):
    DRUG = "drug", _("Drug")
    RADIOTHERAPY = "radiotherapy", _("Radiotherapy")
    RADIOLIGAND = "radioligand", _("Radioligand / nuclear medicine")
    CELL_THERAPY = "cell_therapy", _("Cell therapy / immune cell engager")
    SURGERY = "surgery", _("Surgery")
    DEVICE = "device", _("Device")
    NONE = "none", _("None (non-treatment)")


class SponsorType(models.TextChoices):
    INDUSTRY = "industry", _("Industry")
    ACADEMIC = "academic", _("Academic")
    COOPERATIVE_GROUP = "cooperative_group", _("Cooperative group")
    INSTITUTIONAL = "institutional", _("Institutional")


class TrialStatus(models.TextChoices):
    FEASIBILITY = "feasibility", _("Feasibility")
    SET_UP = "set_up", _("Set-up")
    OPEN = "open", _("Open")
    ON_HOLD = "on_hold", _("On hold")
    CLOSED_TO_ACCRUAL = "closed_to_accrual", _("Closed to accrual")
    CLOSED = "closed", _("Closed")


# The lifecycle: which status may follow which.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    TrialStatus.FEASIBILITY: frozenset({TrialStatus.SET_UP, TrialStatus.CLOSED}),
    TrialStatus.SET_UP: frozenset({TrialStatus.OPEN, TrialStatus.CLOSED}),
    TrialStatus.OPEN: frozenset({TrialStatus.ON_HOLD, TrialStatus.CLOSED_TO_ACCRUAL}),
    TrialStatus.ON_HOLD: frozenset({TrialStatus.OPEN, TrialStatus.CLOSED_TO_ACCRUAL}),
    TrialStatus.CLOSED_TO_ACCRUAL: frozenset({TrialStatus.OPEN, TrialStatus.CLOSED}),
    TrialStatus.CLOSED: frozenset(),
}


class Trial(models.Model):
    protocol_code = models.CharField(max_length=50, unique=True)
    title = models.CharField(max_length=500)
    short_title = models.CharField(max_length=120, blank=True)
    eu_ct_number = models.CharField(max_length=20, blank=True, verbose_name="EU CT number")
    nct_number = models.CharField(max_length=11, blank=True, verbose_name="NCT number")
    sponsor = models.CharField(max_length=200)
    sponsor_type = models.CharField(max_length=24, choices=SponsorType.choices)
    phase = models.CharField(max_length=8, choices=Phase.choices)
    modality = models.CharField(max_length=16, choices=Modality.choices)
    tumour_types = models.JSONField(
        default=list, blank=True, help_text=_('OncoTree codes, e.g. ["NSCLC", "COAD"]')
    )
    targets = models.JSONField(
        default=list, blank=True, help_text=_('Molecular targets, e.g. ["KRAS G12C", "EGFR"]')
    )
    status = models.CharField(
        max_length=20, choices=TrialStatus.choices, default=TrialStatus.FEASIBILITY
    )
    eligibility = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            'Eligibility criteria, in protocol order: [{"kind": "inclusion"|"exclusion", "text": "...",'
            ' "criteria": {optional structured tree, see docs/formats/criteria.md}}]'
        ),
    )
    match_criteria = models.JSONField(
        null=True,
        blank=True,
        help_text=_("Machine criteria for matching (docs/formats/criteria.md); empty: none"),
    )
    # How the trial's, cohorts' and dose levels' criteria combine into match levels: "inherit"
    # (our trial format: a cohort is matched on the trial's criteria and its own) or
    # "independent" (MatchMiner CTML: the trial, each cohort and each dose level is a level of
    # its own, matched on its own criteria only), set by the CTML import.
    match_levels = models.CharField(
        max_length=12,
        choices=[
            ("inherit", _("Cohorts inherit the trial's criteria")),
            ("independent", _("Trial, cohorts and dose levels are independent levels (CTML)")),
        ],
        default="inherit",
    )
    sites: models.ManyToManyField[Site, TrialSite] = models.ManyToManyField(
        Site, through="TrialSite", related_name="trials"
    )
    principal_investigator = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Principal investigator"),
        help_text=_("A user with a membership at one of the participating sites"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["created_at"], history_manager=HistoryManager)

    class Meta:
        ordering = ["protocol_code"]

    def __str__(self) -> str:
        return self.protocol_code

    def access_target(self) -> Target:
        """Its participating sites and itself (see accounts.access)."""
        return Target(frozenset(ts.site_id for ts in self.trial_sites.all()), frozenset({self.pk}))

    def takes_part(self, site_id: int) -> bool:
        """Whether the site takes part in the trial: from the trial's sites when they were read
        with it (``prefetch_related("trial_sites")``), else one query."""
        if "trial_sites" in getattr(self, "_prefetched_objects_cache", {}):
            return any(ts.site_id == site_id for ts in self.trial_sites.all())
        return bool(_SITE_TAKES_PART.rows(trial=self.pk, site=site_id))


# Compiled once per database connection: every consent, screening and registration asks it.
_SITE_TAKES_PART = PreparedRead(
    lambda trial, site: (
        TrialSite.objects.filter(trial_id=trial, site_id=site).order_by().values_list("pk")[:1]
    ),
    "trial",
    "site",
)


class TrialSite(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="trial_sites")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="trial_sites")
    is_lead = models.BooleanField(default=False)
    activated_on = models.DateField(null=True, blank=True)
    principal_investigator = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Site principal investigator"),
        help_text=_("A user with a membership at this site"),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trial", "site"], name="trial_site_once")]

    def __str__(self) -> str:
        return f"{self.trial} @ {self.site}"


class TrialStatusChange(models.Model):
    """The dated status history of a trial (append-only)."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=20, choices=TrialStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=TrialStatus.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.trial}: {self.from_status or '∅'} → {self.to_status}"


class CohortKind(models.TextChoices):
    ESCALATION = "escalation", _("Dose escalation")
    EXPANSION = "expansion", _("Expansion")
    BASKET = "basket", _("Basket")
    RANDOMISED_ARM = "randomised_arm", _("Randomised arm")
    SINGLE_ARM = "single_arm", _("Single arm")
    OBSERVATIONAL = "observational", _("Observational")


class Cohort(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="cohorts")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=CohortKind.choices)
    description = models.TextField(blank=True)
    target_accrual = models.PositiveIntegerField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    match_criteria = models.JSONField(
        null=True,
        blank=True,
        help_text=_("Machine criteria for matching (docs/formats/criteria.md); empty: none"),
    )
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["trial", "code"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="cohort_code_per_trial")
        ]

    def __str__(self) -> str:
        return f"{self.trial} / {self.code}"


class DoseLevel(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="dose_levels")
    level = models.IntegerField(help_text=_("Order of the level; -1 for a de-escalation level"))
    agent = models.CharField(max_length=200)
    dose = models.DecimalField(max_digits=12, decimal_places=4)
    unit = models.CharField(max_length=32)
    schedule = models.CharField(max_length=200, blank=True, help_text=_("e.g. QD d1-21 q28d"))
    match_criteria = models.JSONField(
        null=True,
        blank=True,
        help_text=_("Machine criteria for matching (docs/formats/criteria.md); empty: none"),
    )
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["cohort", "level", "agent"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "level", "agent"], name="dose_level_once"),
            models.CheckConstraint(condition=models.Q(dose__gte=0), name="dose_non_negative"),
        ]

    def __str__(self) -> str:
        return f"DL{self.level} {self.agent} {plain(self.dose)} {self.unit}"

    @property
    def dose_text(self) -> str:
        """The dose as written: 50 for 50.0000, never 5E+1."""
        return plain(self.dose)


class VisitScheduleDefinition(models.Model):
    """A trial's declared visit schedule (the document format of docs/formats/visit-schedule.md)."""

    trial = models.OneToOneField(Trial, on_delete=models.CASCADE, related_name="visit_schedule")
    document = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"], history_manager=HistoryManager)

    def __str__(self) -> str:
        return f"visit schedule of {self.trial} (v{self.version})"
