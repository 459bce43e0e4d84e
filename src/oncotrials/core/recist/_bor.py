"""Best overall response over a sequence of time-point responses, with and without confirmation.

Responses are small integers ordered best first, so "best" is ``min`` and ties go to the earliest
assessment. The confirmation rules follow RECIST 1.1 section 4.4 and Table 3 as made precise by
pharmaverse/admiralonco ``derive_param_confirmed_bor`` (re-derived here, not copied): a CR is
confirmed by a later CR at least ``min_confirmation_days`` later with only CR or NE between; a PR
by a later CR or PR with only CR, PR, NE (and at most one SD when accepted) between and no PR
after a CR; at most ``max_ne_between`` NE between. An unconfirmed CR or PR counts as SD when met
at least ``min_sd_days`` after the start of treatment, else as NE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

CR, PR, SD, NN, UPD, PD, NE = range(7)

NAMES = {CR: "CR", PR: "PR", SD: "SD", NN: "NON-CR/NON-PD", UPD: "iUPD", PD: "PD", NE: "NE"}


@dataclass(frozen=True, slots=True)
class Best:
    code: int
    index: int | None
    rule: str
    confirmed_by: int | None = None
    first_response: int | None = None


def best_unconfirmed(
    dates: list[dt.date],
    codes: list[int],
    *,
    sd_from: dt.date,
    min_sd_days: int,
    names: Mapping[int, str] = NAMES,
) -> Best:
    """Best response of all counted time points; early SD and NON-CR/NON-PD count as NE."""
    best = NE + 1
    where: int | None = None
    early = False
    first_response: int | None = None
    for i, code in enumerate(codes):
        if code <= PR and first_response is None:
            first_response = i
        if (code in (SD, NN)) and dates[i] < sd_from:
            early = True
            code = NE
        if code < best:
            best, where = code, i
    if where is None:
        return Best(NE, None, "no assessment counts towards best response: NE")
    name = names[best]
    if best == NE and early:
        rule = (
            f"SD/NON-CR/NON-PD met only before day {min_sd_days} after start "
            "(minimum SD duration, RECIST 1.1 section 4.4): NE"
        )
    elif best in (SD, NN):
        rule = f"best time-point response {name}, met at least {min_sd_days} days after start"
    else:
        rule = f"best time-point response {name} (no confirmation required)"
    return Best(best, where, rule, None, first_response)


def best_confirmed(
    dates: list[dt.date],
    codes: list[int],
    *,
    sd_from: dt.date,
    min_sd_days: int,
    min_confirmation_days: int,
    max_ne_between: int,
    accept_sd_between: bool,
    has_targets: bool,
    names: Mapping[int, str] = NAMES,
) -> Best:
    """Best response when CR and PR need confirmation (RECIST 1.1 Table 3)."""
    n = len(codes)
    best = NE + 1
    where: int | None = None
    confirmed_by: int | None = None
    first_response: int | None = None
    reason = ""
    max_sd = 1 if accept_sd_between else 0
    stable = SD if has_targets else NN
    for i in range(n):
        code = codes[i]
        effective = code
        by: int | None = None
        if code in (CR, PR):
            by = _confirmation(
                dates, codes, i, n, min_confirmation_days, max_ne_between, max_sd, code == CR
            )
            if by is None:
                effective = stable if dates[i] >= sd_from else NE
            elif first_response is None:
                first_response = i
        elif (code in (SD, NN)) and dates[i] < sd_from:
            effective = NE
        if effective < best:
            best, where, confirmed_by = effective, i, by
            reason = _reason(code, effective, by, dates, min_sd_days, min_confirmation_days, names)
    if where is None:
        return Best(NE, None, "no assessment counts towards best response: NE")
    return Best(best, where, reason, confirmed_by, first_response)


def _confirmation(
    dates: list[dt.date],
    codes: list[int],
    i: int,
    n: int,
    min_days: int,
    max_ne: int,
    max_sd: int,
    is_cr: bool,
) -> int | None:
    start = dates[i]
    ne = sd = 0
    seen_cr = is_cr
    for j in range(i + 1, n):
        code = codes[j]
        if is_cr:
            if code == CR and (dates[j] - start).days >= min_days:
                return j
            if code == NE:
                ne += 1
            elif code != CR:
                return None
        else:
            if code == PR and seen_cr:
                return None  # a PR after a CR means disease reappeared (Table 3 footnote)
            if (code in (CR, PR)) and (dates[j] - start).days >= min_days:
                return j
            if code == CR:
                seen_cr = True
            elif code == NE:
                ne += 1
            elif code == SD:
                sd += 1
                if sd > max_sd:
                    return None
            elif code != PR:
                return None
        if ne > max_ne:
            return None
    return None


def _reason(
    code: int,
    effective: int,
    by: int | None,
    dates: list[dt.date],
    min_sd_days: int,
    min_confirmation_days: int,
    names: Mapping[int, str],
) -> str:
    name = names[code]
    if by is not None:
        return (
            f"{name} confirmed on {dates[by].isoformat()}, at least {min_confirmation_days} days "
            "later (RECIST 1.1 section 4.4, Table 3)"
        )
    if code in (CR, PR):
        if effective == NE:
            return (
                f"{name} not confirmed and met before day {min_sd_days} after start "
                "(RECIST 1.1 Table 3): NE"
            )
        return (
            f"{name} not confirmed; met at least {min_sd_days} days after start, so it counts as "
            f"{names[effective]} (RECIST 1.1 Table 3)"
        )
    if effective == NE and code in (SD, NN):
        return (
            f"{name} met only before day {min_sd_days} after start (minimum SD duration, "
            "RECIST 1.1 section 4.4): NE"
        )
    if code in (SD, NN):
        return f"best time-point response {name}, met at least {min_sd_days} days after start"
    return f"best time-point response {name}"
