"""Chain-of-custody checks: where a specimen's recorded history has holes.

A specimen's chain (ISBER Best Practices, chain of custody; OpenSpecimen transfer events) starts
with its collection (a primary specimen, then its receipt in the laboratory) or its creation from
a parent (aliquot, derivative); every location change names where it came from and where it
went, and each one starts where the previous one ended; where the specimen is now is where the
last one put it; distribution and disposal are events too. ``custody_gaps`` lists what breaks
that, in words a technician can act on.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

# Kinds that change where the specimen is (from -> to).
LOCATION_KINDS = frozenset({"stored", "moved", "checked_out", "checked_in", "shipped", "delivered"})


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    at: dt.datetime
    from_location: str = ""
    to_location: str = ""


def custody_gaps(
    events: Sequence[Event],
    *,
    lineage: str,
    status: str,
    current_location: str,
    shipment_received: bool = False,
) -> list[str]:
    """Every gap in one specimen's chain of custody (empty: the chain is whole).

    ``events`` in recorded order; ``current_location`` is its storage position ("" when it is
    not in a box); ``shipment_received`` tells whether a shipment that carried it arrived.
    """
    gaps: list[str] = []
    kinds = [e.kind for e in events]
    start = (
        "collected" if lineage == "new" else ("aliquoted" if lineage == "aliquot" else "derived")
    )
    if start not in kinds:
        gaps.append(f"no '{start}' event: the chain has no beginning")
    if lineage == "new" and "received" not in kinds:
        gaps.append("collected but never recorded as received in the laboratory")
    for earlier, later in itertools.pairwise(events):
        if later.at < earlier.at:
            gaps.append(
                f"'{later.kind}' at {later.at:%Y-%m-%d %H:%M} is dated before the preceding "
                f"'{earlier.kind}' at {earlier.at:%Y-%m-%d %H:%M}"
            )
    where = ""
    for e in events:
        if e.kind not in LOCATION_KINDS:
            continue
        if e.from_location != where:
            gaps.append(
                f"'{e.kind}' at {e.at:%Y-%m-%d %H:%M} starts from {e.from_location or 'nowhere'} "
                f"but the specimen was last recorded at {where or 'no location'}"
            )
        where = e.to_location
    in_house = status not in {"distributed", "disposed"}
    if in_house and current_location != where:
        gaps.append(
            f"it is at {current_location or 'no position'} but its last transfer left it at "
            f"{where or 'no location'} (a move without a transfer event)"
        )
    if status == "distributed" and "shipped" not in kinds:
        gaps.append("distributed without a shipment event")
    if status == "disposed" and "disposed" not in kinds:
        gaps.append("disposed without a disposal event")
    if shipment_received and "delivered" not in kinds:
        gaps.append("its shipment arrived but its receipt at destination is not recorded")
    return gaps
