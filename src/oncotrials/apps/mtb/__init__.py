"""The molecular tumour board: trial matching over the clinical-genomic database, meetings,
cases, recommendations and the referral funnel."""
