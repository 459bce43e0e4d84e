"""Trial matching over the clinical-genomic database: the machine criteria of trials, cohorts
and dose levels (stored on the trials models, set here with CTML import), the matching engine
kept in step with the data, and its API and pages. The tumour board (``apps/mtb``) uses it."""
