"""Independent checker of a schedule: rebuilds every resource profile and lists each violation.

This module shares no code with the first-fit or the CP-SAT model (a test reads its imports):
it reads the instance document and the solution itself, rebuilds the chair, bed, nurse, ward
sampling and pharmacy profiles slot by slot from the rules written in the ONC-WEEK fixture
README, and computes the objective on its own. A solver bug therefore shows up as a violation
here rather than being repeated.

Rules (one code each):

``unknown_visit``, ``malformed``
    the solution names a visit the instance lacks, or a booking is not three integers;
``day_not_allowed``
    the day is not one of the visit's allowed days;
``chair_window``, ``bed_window``, ``time_window``
    a chair visit outside ``[d*spd + open + pre + prep, d*spd + close]``; a ward admission
    outside the admission window, or a stay ending after the ward closes; outside the visit's own
    ``window``;
``pharmacy_window``, ``pharmacy_missing``, ``pharmacy_unexpected``
    a preparation starting before the pharmacy opens plus the pre-assessment, ending after the
    pharmacy closes or after the start (the dose for a ward stay); none given when one is
    needed; one given for a visit without preparation;
``chair_capacity``, ``bed_capacity``, ``nurse_capacity``, ``ward_sampling_capacity``,
``pharmacy_capacity``
    a slot where the rebuilt profile exceeds the capacity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SLOTS_PER_MINUTE_DAY = 1440


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: a stable code, the visit (or ``""`` for a capacity), the slot, a text."""

    code: str
    visit: str
    slot: int | None
    message: str


def _spd(doc: Mapping[str, Any]) -> int:
    return _SLOTS_PER_MINUTE_DAY // int(doc["slot_minutes"])


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _bookings(
    doc: Mapping[str, Any], solution: Mapping[str, Any], out: list[Violation]
) -> dict[str, tuple[dict[str, Any], int, int, int]]:
    by_id = {raw["id"]: raw for raw in doc["visits"]}
    booked: dict[str, tuple[dict[str, Any], int, int, int]] = {}
    for vid, value in solution.items():
        raw = by_id.get(vid)
        if raw is None:
            out.append(Violation("unknown_visit", str(vid), None, f"{vid}: not in the instance."))
            continue
        if not isinstance(value, list | tuple) or len(value) != 3 or not all(map(_is_int, value)):
            out.append(
                Violation("malformed", vid, None, f"{vid}: {value!r} is not [day, start, prep].")
            )
            continue
        booked[vid] = (raw, int(value[0]), int(value[1]), int(value[2]))
    return booked


def check(doc: Mapping[str, Any], solution: Mapping[str, Any]) -> list[Violation]:
    """Every violation of ``solution`` against the instance document ``doc``."""
    out: list[Violation] = []
    spd = _spd(doc)
    booked = _bookings(doc, solution, out)
    n = int(doc["days"]) * spd + 2 * spd
    chair = [0] * n
    nurse = [0] * n
    bed = [0] * n
    ward = [0] * n
    pharmacy = [0] * n
    users: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))

    def use(profile: list[int], name: str, t: int, amount: int, vid: str) -> None:
        if 0 <= t < n:
            profile[t] += amount
            users[name][t].append(vid)
        else:
            out.append(Violation("horizon", vid, t, f"{vid}: slot {t} is outside the horizon."))

    for vid, (raw, day, start, prep_start) in sorted(booked.items()):
        if day not in raw["days"]:
            out.append(
                Violation(
                    "day_not_allowed",
                    vid,
                    start,
                    f"{vid}: day {day} is not among its allowed days {raw['days']}.",
                )
            )
        base = day * spd
        dur = int(raw["dur"])
        pre = int(raw.get("pre", 0))
        prep = int(raw.get("prep", 0))
        window = raw.get("window")
        if raw["unit"] == "chair":
            earliest = base + doc["chair_open"] + pre + prep
            latest_end = base + doc["chair_close"]
            if start < earliest or start + dur > latest_end:
                out.append(
                    Violation(
                        "chair_window",
                        vid,
                        start,
                        f"{vid}: chair time [{start}, {start + dur}) is outside "
                        f"[{earliest}, {latest_end}) on day {day}.",
                    )
                )
            if window is not None and not (
                base + window[0] <= start and start + dur <= base + window[1]
            ):
                out.append(
                    Violation("time_window", vid, start, f"{vid}: outside its window {window}.")
                )
            for t in range(start, start + dur):
                use(chair, "chair", t, 1, vid)
                use(nurse, "nurse", t, 1, vid)
            for t in range(start, start + min(int(raw.get("setup", 0)), dur)):
                use(nurse, "nurse", t, 3, vid)
            for offset in raw.get("samples", []):
                use(nurse, "nurse", start + int(offset), 3, vid)
            ready = start
        else:
            a0, a1 = doc["bed_admit_window"]
            if (
                not (base + a0 <= start <= base + a1)
                or start < doc["bed_from"]
                or start + dur > doc["bed_to"]
            ):
                out.append(
                    Violation(
                        "bed_window",
                        vid,
                        start,
                        f"{vid}: admission at {start} must fall in [{base + a0}, {base + a1}] "
                        f"and the stay end by {doc['bed_to']} (ends {start + dur}).",
                    )
                )
            if window is not None and not (base + window[0] <= start <= base + window[1]):
                out.append(
                    Violation("time_window", vid, start, f"{vid}: outside its window {window}.")
                )
            for t in range(start, start + dur):
                use(bed, "bed", t, 1, vid)
            for offset in raw.get("samples", []):
                use(ward, "ward", start + int(offset), 1, vid)
            ready = start + int(raw.get("dose_at", 0))
        if prep > 0:
            if prep_start < 0:
                out.append(
                    Violation(
                        "pharmacy_missing", vid, None, f"{vid}: needs a {prep}-slot preparation."
                    )
                )
                continue
            p_lo = base + doc["pharmacy_open"] + pre
            p_end = min(ready, base + doc["pharmacy_close"])
            if prep_start < p_lo or prep_start + prep > p_end:
                out.append(
                    Violation(
                        "pharmacy_window",
                        vid,
                        prep_start,
                        f"{vid}: preparation [{prep_start}, {prep_start + prep}) must start at "
                        f"or after {p_lo} and end by {p_end}.",
                    )
                )
            for t in range(prep_start, prep_start + prep):
                use(pharmacy, "pharmacy", t, 1, vid)
        elif prep_start != -1:
            out.append(
                Violation(
                    "pharmacy_unexpected",
                    vid,
                    prep_start,
                    f"{vid}: has no preparation; its third value must be -1.",
                )
            )

    nurse_cap = [0] * n
    for day in range(int(doc["days"])):
        for a, b, nurses in doc["nurse_profile"]:
            for t in range(day * spd + a, min(day * spd + b, (day + 1) * spd)):
                nurse_cap[t] = 4 * nurses
    ward_cap = [0] * n
    for day in range(int(doc["days"])):
        for a, b, cap in doc["ward_sampling_capacity"]:
            for t in range(day * spd + a, min(day * spd + b, n)):
                ward_cap[t] = cap

    def over(profile: list[int], name: str, code: str, cap_at: Any, unit: str) -> None:
        t = 0
        while t < n:
            cap = cap_at(t)
            if profile[t] > cap:
                start = t
                while t + 1 < n and profile[t + 1] > cap_at(t + 1):
                    t += 1
                who = sorted(set(users[name][start]))
                out.append(
                    Violation(
                        code,
                        "",
                        start,
                        f"slots {start}..{t}: {profile[start]} {unit} used, capacity "
                        f"{cap}; visits at slot {start}: {', '.join(who)}.",
                    )
                )
            t += 1

    over(chair, "chair", "chair_capacity", lambda t: doc["chairs"], "chairs")
    over(bed, "bed", "bed_capacity", lambda t: doc["beds"], "beds")
    over(nurse, "nurse", "nurse_capacity", lambda t: nurse_cap[t], "quarter-nurses")
    over(ward, "ward", "ward_sampling_capacity", lambda t: ward_cap[t], "ward samples")
    over(pharmacy, "pharmacy", "pharmacy_capacity", lambda t: doc["pharmacy_capacity"], "isolators")
    return out


def score(doc: Mapping[str, Any], solution: Mapping[str, Any]) -> int:
    """The objective: 1000 x weight per unscheduled request, 20 per day away from the target,
    and each day's last chair end minus the opening (slot 96, 08:00, in the reference week)."""
    spd = _spd(doc)
    total = 0
    last_end: dict[int, int] = {}
    for raw in doc["visits"]:
        value = solution.get(raw["id"])
        if value is None:
            total += 1000 * int(raw.get("weight", 1))
            continue
        day, start = int(value[0]), int(value[1])
        total += 20 * abs(day - int(raw["target_day"]))
        if raw["unit"] == "chair":
            end = start + int(raw["dur"]) - day * spd
            last_end[day] = max(last_end.get(day, 0), end)
    total += sum(end - int(doc["chair_open"]) for end in last_end.values())
    return total
