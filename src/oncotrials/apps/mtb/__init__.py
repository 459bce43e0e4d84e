"""The molecular tumour board: meetings, cases, recommendations and the referral funnel; the
matching open cohorts of a case come from the matching app (``apps/matching``)."""
