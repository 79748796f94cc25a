"""The customer rules, written once: what happens to a customer at each kind of event.

Every function works on a Python number and on numpy arrays alike (element by element;
a plain number takes a fast path: these run once per event in the SimPy engine),
so the SimPy engine calls it for one customer, the vectorised engine for a whole group,
and the analytic engine for every variant of a journey at once. The engines differ only
in how they schedule customers and count what happens; the semantics are in
docs/model.md §3.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

from spiral.model.experience import Experience, Loyalty

Number = TypeVar("Number", float, np.ndarray)

EXPONENT_LIMIT = 600.0
"""factor**k is computed only up to e^600: odds and severity are 1 (or capped) long before."""


def power_cap(factor: float) -> int:
    """Return the largest exponent k worth computing ``factor**k`` with (no overflow)."""
    return int(EXPONENT_LIMIT / math.log(factor)) if factor > 1 else 1 << 30


def failure_probability(p: Number, failures: Number, compounding: float) -> Number:
    """Return P(a step fails) for a customer who has already failed ``failures`` times.

    Exception paths are poorly defined: each failure already suffered multiplies the
    odds of failing by ``compounding`` (1: no compounding). A step that never fails
    (p = 0) or always fails (p = 1) is not changed, nor is anyone who has not failed.
    """
    if compounding == 1.0:
        return p
    if not isinstance(p, np.ndarray) and not isinstance(failures, np.ndarray):
        if not failures or p <= 0.0 or p >= 1.0:
            return p
        odds = p / (1.0 - p) * compounding ** min(failures, power_cap(compounding))
        return odds / (1.0 + odds)
    p_arr = np.asarray(p, dtype=float)
    cap = power_cap(compounding)
    if not isinstance(failures, np.ndarray):  # one count, many probabilities: Python's pow
        factor: float | np.ndarray = compounding ** min(int(failures), cap)
    else:
        factor = np.power(float(compounding), np.minimum(np.asarray(failures), cap))
    inside = (p_arr > 0) & (p_arr < 1) & (np.asarray(failures) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = p_arr / (1 - p_arr) * factor
        compounded = odds / (1 + odds)
    return np.where(inside, compounded, p_arr)


def worsened(severity: Number, factor: float, cap: float) -> Number:
    """Return severity after a bad event: × ``factor``, at most ``cap``; no complaint stays 0."""
    if not isinstance(severity, np.ndarray):
        return min(severity * factor, cap) if severity > 0.0 else severity
    s = np.asarray(severity, dtype=float)
    return np.where(s > 0, np.minimum(s * factor, cap), s)


def faded(severity: Number, elapsed: Number, half_life: float | None) -> Number:
    """Return severity after ``elapsed`` minutes without a bad event: halved every half-life.

    Memory of a bad experience fades (a guess, docs/model.md §3); None: it never does.
    """
    if half_life is None:
        return severity
    if not isinstance(severity, np.ndarray) and not isinstance(elapsed, np.ndarray):
        return severity * 2.0 ** (-elapsed / half_life)
    return np.asarray(severity, dtype=float) * np.exp2(-np.asarray(elapsed) / half_life)


def after_failure(severity: Number, amplification: float, cap: float) -> Number:
    """Return severity after a failure: the complaint is born (1) or amplified."""
    if not isinstance(severity, np.ndarray):
        return 1.0 if severity == 0.0 else min(severity * amplification, cap)
    s = np.asarray(severity, dtype=float)
    return np.where(s == 0, 1.0, np.minimum(s * amplification, cap))


def amplified(failures: Number, amplification: float) -> Number:
    """Return the severity of a customer with ``failures`` >= 1 failures and nothing else.

    ``amplification ** (failures - 1)``, the spiral in its simplest form (cap it yourself).
    """
    if not isinstance(failures, np.ndarray):
        return amplification ** min(int(failures) - 1, power_cap(amplification))
    exponent = np.minimum(np.asarray(failures) - 1, power_cap(amplification))
    return np.power(float(amplification), exponent)


def escalation_due(severity: Number, escalated: Number, threshold: float) -> Number:
    """Return whether a customer may escalate to a channel: at its threshold, not yet there."""
    if not isinstance(severity, np.ndarray) and not isinstance(escalated, np.ndarray):
        return (not escalated) and severity >= threshold
    return ~np.asarray(escalated, dtype=bool) & (np.asarray(severity) >= threshold)


def complains(u: Number, p: float) -> Number:
    """Return whether a customer who has just suffered a failure gets in touch, from a U(0, 1).

    With probability ``p`` the customer complains (the step's ``on_failure`` route); the
    others suffer in silence: for small problems only ~3% complain (Goodman & Newman 2003).
    """
    if not isinstance(u, np.ndarray):
        return u < p
    return np.asarray(u) < p


def voiced(p: float, propensity: float) -> float:
    """Return a segment's P(complain | a failure): the step's chance × its propensity, <= 1."""
    return min(1.0, p * propensity)


def tolerant(experience: Experience, tolerance: float) -> Experience:
    """Return the experience of a segment that takes ``tolerance`` × the severity before acting.

    It escalates and churns as a customer with severity / ``tolerance`` would: escalation
    thresholds and the loyalty severity scale × ``tolerance``, advocacy decay ÷ it (a guess,
    docs/model.md §3, "Customer segments").
    """
    if tolerance == 1.0:
        return experience
    esc, loyalty = experience.escalation, experience.loyalty
    escalation = esc.model_copy(
        update={
            "social": esc.social.model_copy(update={"threshold": esc.social.threshold * tolerance}),
            "ceo": esc.ceo.model_copy(update={"threshold": esc.ceo.threshold * tolerance}),
        }
    )
    loyalty = loyalty.model_copy(
        update={
            "severity_scale": loyalty.severity_scale * tolerance,
            "advocacy_decay": loyalty.advocacy_decay / tolerance,
        }
    )
    return experience.model_copy(update={"escalation": escalation, "loyalty": loyalty})


def recovered_once(recovered: Number, failures: Number) -> Number:
    """Return whether a customer was recovered after exactly one failure (the paradox's case).

    Recovery helps after a first failure, not after a second (Maxham & Netemeyer 2002).
    """
    if not isinstance(recovered, np.ndarray) and not isinstance(failures, np.ndarray):
        return bool(recovered) and failures == 1
    return np.asarray(recovered, dtype=bool) & (np.asarray(failures) == 1)


def reach_lognormal(reach_median: float, reach_sigma: float) -> tuple[float, float]:
    """Return (mu, sigma) of the lognormal audience of a social post (heavy-tailed reach).

    Most sharing cascades stop within one step (Goel, Watts & Goldstein 2012): the
    audience is the poster's followers, rarely a media pickup, not a chain.
    """
    return math.log(max(reach_median, 1e-12)), reach_sigma


def mean_reach(reach_median: float, reach_sigma: float) -> float:
    """Return the mean audience of a social post: median · e^(σ²/2)."""
    return reach_median * math.exp(reach_sigma**2 / 2)


def recovery_speed(elapsed: Number, recovery_time: float | None) -> Number:
    """Return how fast a first failure was put right: exp(-elapsed / recovery_time), 0 to 1.

    1 is an instant recovery, 0 a slow one (or ``recovery_time`` None: speed not modelled).
    """
    if recovery_time is None:
        return 0.0 if not isinstance(elapsed, np.ndarray) else np.zeros_like(elapsed, float)
    if not isinstance(elapsed, np.ndarray):
        return math.exp(-elapsed / recovery_time)
    return np.exp(-np.asarray(elapsed, dtype=float) / recovery_time)


def loyalty_neutral(loyalty: Loyalty) -> bool:
    """Return whether loyalty_odds gives 0 and 0 whatever happened: everyone is retained."""
    return loyalty.base_churn == 0.0 and loyalty.max_churn == 0.0 and loyalty.base_advocacy == 0.0


def loyalty_odds(
    severity: Number, recovered_once: Number, loyalty: Loyalty, speed: Number = 0.0
) -> tuple[Number, Number]:
    """Return P(churn) and P(advocate) at the end of a journey.

    Churn rises from ``base_churn`` (severity 0) toward ``max_churn`` as
    max − (max − base)·e^(−severity/scale); a customer recovered after exactly one
    failure has it × ``recovery_effect``, and then moved back toward ``base_churn`` by the
    recovery's ``speed`` (1: instant, as loyal as a customer who never failed; de Matos,
    Henrique & Rossi 2007). Advocacy is ``base_advocacy``·e^(−decay·severity), for a
    recovered customer moved toward ``base_advocacy`` by ``speed``; never more than
    1 − churn.
    """
    span = loyalty.max_churn - loyalty.base_churn
    base_churn, base_advocacy = loyalty.base_churn, loyalty.base_advocacy
    if not isinstance(severity, np.ndarray) and not isinstance(recovered_once, np.ndarray):
        if severity == 0.0:
            return base_churn, min(base_advocacy, 1.0 - base_churn)
        churn = loyalty.max_churn - span * math.exp(-severity / loyalty.severity_scale)
        advocacy = base_advocacy * math.exp(-loyalty.advocacy_decay * severity)
        if recovered_once:
            churn *= loyalty.recovery_effect
            if speed:
                churn += (base_churn - churn) * speed
                advocacy += (base_advocacy - advocacy) * speed
        return churn, min(advocacy, 1 - churn)
    s = np.asarray(severity, dtype=float)
    failed = s > 0
    churn = np.where(
        failed, loyalty.max_churn - span * np.exp(-s / loyalty.severity_scale), base_churn
    )
    advocacy = np.where(failed, base_advocacy * np.exp(-loyalty.advocacy_decay * s), base_advocacy)
    once = np.asarray(recovered_once) & failed
    churn = np.where(once, churn * loyalty.recovery_effect, churn)
    fast = once * np.asarray(speed, dtype=float)
    churn = churn + (base_churn - churn) * fast
    advocacy = advocacy + (base_advocacy - advocacy) * fast
    return churn, np.minimum(advocacy, 1 - churn)


def handoff_seen(into_contact: bool, customer_facing: bool, open_issue: Number) -> Number:
    """Return whether the customer sees a handoff: into a contact, or with an open issue.

    With an open issue, only into a step the customer takes part in (an engineer's visit,
    a desk). A back-office handoff, or one on a journey with nothing to explain, is not seen: no
    re-explaining, no effort, no misrouting (docs/model.md §3).
    """
    if into_contact:
        return True if not isinstance(open_issue, np.ndarray) else np.ones(open_issue.shape, bool)
    if not customer_facing:
        return False if not isinstance(open_issue, np.ndarray) else np.zeros(open_issue.shape, bool)
    return open_issue


def handoff(
    warm_draw: Number, misroute_draw: Number, baton: float, ping_pong: float, seen: Number = True
) -> tuple[Number, Number]:
    """Return (warm, misrouted) for a handoff between silos, from two uniform draws.

    Warm with probability ``baton`` (the context travels); otherwise cold, and then, if the
    customer sees the handoff, misrouted (sent to the wrong place first) with probability
    ``ping_pong``. A handoff the customer does not see is never misrouted.
    """
    if not isinstance(warm_draw, np.ndarray):
        warm = warm_draw < baton
        return warm, bool(seen) and (not warm) and misroute_draw < ping_pong
    warm = np.asarray(warm_draw) < baton
    return warm, ~warm & (np.asarray(misroute_draw) < ping_pong) & np.asarray(seen, dtype=bool)


def handoff_shares(baton: float, ping_pong: float, seen: bool = True) -> tuple[float, float, float]:
    """Return P(warm), P(cold) and P(misrouted | cold) of a handoff (the ``handoff`` rule)."""
    return baton, 1.0 - baton, ping_pong if seen else 0.0


def cold_events(warm: Number, misrouted: Number, seen: Number = True) -> Number:
    """Return how often a handoff worsens severity by ``cold_handoff``: 0 warm, 1 cold, 2 misrouted.

    A cold handoff the customer sees makes them explain it all again; a misrouted one twice
    (there and back). One the customer does not see never does: 0.
    """
    if not isinstance(warm, np.ndarray) and not isinstance(misrouted, np.ndarray):
        return 0 if warm or not seen else 1 + bool(misrouted)
    events = np.where(np.asarray(warm), 0, 1 + np.asarray(misrouted, dtype=int))
    return np.where(np.asarray(seen, dtype=bool), events, 0)


def severity_of(
    failures: Number,
    cold: Number,
    repeats: Number,
    amplification: float,
    cold_handoff: float,
    repeat_contact: float,
    cap: float,
) -> Number:
    """Return severity after f >= 1 failures, b cold-handoff events and c repeat contacts.

    amplification^(f−1) · cold_handoff^b · repeat_contact^c, capped. Every factor is at
    least 1, so capping once equals capping after each event (the SimPy engine multiplies
    event by event); arrays broadcast (the analytic engine's lattice).
    """
    lattice = np.power(cold_handoff, cold) * np.power(repeat_contact, repeats)
    return np.minimum(amplified(failures, amplification) * lattice, cap)


def split_draw(u: np.ndarray, baton: float) -> np.ndarray:
    """Return, from one uniform draw that was above ``baton``, a fresh uniform for misrouting.

    (u − baton) / (1 − baton) is uniform on [0, 1) given u >= baton: one draw can decide
    both parts of a handoff (the vectorised engine's way).
    """
    if baton >= 1.0:
        return np.ones_like(u)
    return (np.asarray(u) - baton) / (1.0 - baton)


def empowerment_cost(u: Number, mean_cost: float) -> Number:
    """Return the cost of putting a case right, from a U(0, 1) draw: Exp(mean ``mean_cost``)."""
    if not isinstance(u, np.ndarray):
        return -mean_cost * math.log(1.0 - u)
    return -mean_cost * np.log1p(-np.asarray(u))


def empowered(cost: Number, limit: float) -> Number:
    """Return whether an agent may put a case right: its cost is within the limit."""
    if not isinstance(cost, np.ndarray):
        return cost <= limit
    return np.asarray(cost) <= limit


def empowered_probability(limit: float, mean_cost: float) -> float:
    """Return P(an exponential cost with mean ``mean_cost`` is within ``limit``)."""
    return 1.0 - math.exp(-limit / mean_cost)


def resolution_probability(fcr: float, empowerment: tuple[float, float] | None) -> float:
    """Return P(a contact puts an open issue right): resolved, or else empowered.

    Empowerment reaches only the cases the agent could not resolve (``1 - fcr`` of them).
    """
    if empowerment is None:
        return fcr
    limit, mean_cost = empowerment
    return fcr + (1.0 - fcr) * empowered_probability(limit, mean_cost)


def effort(contacts: Number, cold: Number, misrouted: Number, abandons: Number) -> Number:
    """Return a customer's effort: one per contact, seen cold handoff, misrouting and abandon.

    Only handoffs the customer sees count (``cold`` and ``misrouted`` are those).

    CEB (Dixon et al. 2013): transfers, repeating information and repeat contacts drive
    disloyalty; each such event counts the same (a guess).
    """
    return contacts + cold + misrouted + abandons


def accepted_arrival(u: Number, peak: float, multiplier: Number) -> Number:
    """Return whether a candidate arrival at the peak rate is kept in a slot (thinning).

    Arrivals are drawn at the profile's peak rate and each kept with probability
    multiplier / peak, which gives the slot's rate exactly (Lewis & Shedler 1979).
    """
    if not isinstance(u, np.ndarray) and not isinstance(multiplier, np.ndarray):
        return u * peak < multiplier
    return np.asarray(u) * peak < np.asarray(multiplier)
