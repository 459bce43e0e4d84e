"""Shared values of the exports tests."""

from __future__ import annotations

VERBATIM = (
    "Colitis with bloody diarrhoea up to eight stools a day above baseline, abdominal cramps "
    "and fever, starting two weeks after the first infusion, confirmed at colonoscopy with "
    "biopsies showing active colitis, treated with oral prednisolone 1 mg per kg."
)
assert len(VERBATIM) == 250
