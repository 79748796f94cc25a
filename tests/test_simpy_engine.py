"""The SimPy engine against theory: absorbing Markov chains, Erlang C, exact severity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spiral.analysis.results import run
from spiral.model.graph import build_graph
from spiral.model.loading import parse_scenario

Z99 = stats.norm.ppf(0.995)

NEUTRAL_EXPERIENCE = {
    "compounding": 1.0,
    "cold_handoff": 1.0,
    "repeat_contact": 1.0,
    "abandonment": 1.0,
}


def markov_scenario(customers: int = 20_000, **experience: float) -> dict:
    """Return a three-silo journey with loops, transfers and two outcomes, all unlimited."""
    return {
        "name": "markov",
        "customers": customers,
        "arrivals": {"rate": "600 per day"},
        "start": {"order": 0.8, "enquire": 0.2},
        "silos": {
            "web": {"staff": "unlimited"},
            "ops": {"staff": "unlimited"},
            "care": {"staff": "unlimited"},
        },
        "steps": {
            "order": {
                "silo": "web",
                "service": "2 min",
                "failure": 0.15,
                "on_failure": "phone",
                "next": "pack",
            },
            "pack": {
                "silo": "ops",
                "service": {"dist": "exponential", "mean": "20 min"},
                "failure": 0.1,
                "on_failure": {"phone": 0.6, "chat": 0.4},
                "next": {"deliver": 0.9, "order": 0.1},
            },
            "deliver": {
                "silo": "ops",
                "service": "1 h",
                "failure": 0.25,
                "on_failure": "chat",
                "next": "kept",
            },
        },
        "contacts": {
            "enquire": {
                "silo": "care",
                "handling": "5 min",
                "fcr": 0.9,
                "resolved": "order",
                "unresolved": "gone",
            },
            "phone": {
                "silo": "care",
                "handling": {"dist": "lognormal", "mean": "8 min", "cv": 0.6},
                "fcr": 0.6,
                "resolved": {"pack": 0.5, "deliver": 0.5},
                "unresolved": {"chat": 0.5, "phone": 0.3, "gone": 0.2},
            },
            "chat": {
                "silo": "web",
                "handling": "4 min",
                "fcr": 0.5,
                "resolved": "deliver",
                "unresolved": {"phone": 0.7, "gone": 0.3},
            },
        },
        "outcomes": {"kept": {}, "gone": {"kind": "churn"}},
        "experience": {**NEUTRAL_EXPERIENCE, **experience},
    }


def absorbing_chain(scenario, baton: float, ping_pong: float):
    """Return (nodes, transient, Q, R, start vector) of the chain of counted visits.

    A cold, misrouted handoff u -> v sends the customer to the wrong place first and then
    on to v: the wrong place's visit is not counted and u is not visited again, so
    misrouting leaves the chain of counted visits as the graph has it.
    """
    graph = build_graph(scenario)
    nodes = list(graph.nodes)
    transient = [n for n in nodes if graph.nodes[n]["kind"] != "outcome"]
    outcomes = [n for n in nodes if graph.nodes[n]["kind"] == "outcome"]
    index = {n: i for i, n in enumerate(transient)}
    out_index = {n: i for i, n in enumerate(outcomes)}
    q = np.zeros((len(transient), len(transient)))
    r = np.zeros((len(transient), len(outcomes)))
    for u, v, data in graph.edges(data=True):
        p = data["p"]
        if graph.nodes[v]["kind"] == "outcome":
            r[index[u], out_index[v]] += p
            continue
        q[index[u], index[v]] += p
    start = np.zeros(len(transient))
    for node, p in scenario.start.items():
        start[index[node]] += p
    return transient, outcomes, q, r, start


def per_customer_visits(result) -> pd.DataFrame:
    """Return counted visits per customer and node from the event log."""
    events = result.events
    done = events[events["event"] == "complete"]
    counts = done.groupby(["customer", "node"], observed=False).size().unstack(fill_value=0)
    return counts.reindex(result.customers["customer"], fill_value=0)


@pytest.mark.slow
@pytest.mark.parametrize(("baton", "ping_pong"), [(1.0, 0.0), (0.3, 0.4)])
def test_unlimited_staff_matches_the_absorbing_markov_chain(baton, ping_pong):
    data = markov_scenario(baton=baton, ping_pong=ping_pong)
    scenario = parse_scenario(data, "markov.yaml")
    result = run(scenario, seed=11, event_log=True)
    customers = result.customers
    assert (customers["outcome"] != "in_progress").all()
    transient, outcomes, q, r, start = absorbing_chain(scenario, baton, ping_pong)
    fundamental = np.linalg.inv(np.eye(len(q)) - q)
    expected_visits = start @ fundamental
    n = len(customers)

    visits = per_customer_visits(result)
    for j, node in enumerate(transient):
        observed = visits[node].to_numpy()
        half = Z99 * observed.std(ddof=1) / math.sqrt(n)
        assert abs(observed.mean() - expected_visits[j]) < half, node

    failure = np.array(
        [scenario.steps[n].failure if n in scenario.steps else 0.0 for n in transient]
    )
    expected_failures = expected_visits @ failure
    observed = customers["failures"].to_numpy()
    assert abs(observed.mean() - expected_failures) < Z99 * observed.std(ddof=1) / math.sqrt(n)

    absorption = start @ fundamental @ r
    for k, node in enumerate(outcomes):
        share = float((customers["exit_node"] == node).mean())
        half = Z99 * math.sqrt(absorption[k] * (1 - absorption[k]) / n)
        assert abs(share - absorption[k]) < half, node

    assert result.summary["ping_pongs"] > 0 if ping_pong else result.summary["ping_pongs"] == 0


@pytest.mark.slow
def test_expected_severity_matches_the_chain_with_failure_edges_weighted():
    # With every other factor neutral and warm handoffs, severity = a**(F-1) for F >= 1,
    # so E[severity] = (E[a**F] - P(F = 0)) / a, and E[z**F] = start (I - Q_z)^-1 R 1
    # where Q_z weights the failure branch of every step by z.
    amplification = 1.6
    data = markov_scenario(amplification=amplification, baton=1.0, ping_pong=0.0)
    scenario = parse_scenario(data, "markov.yaml")
    transient, _, _, _, start = absorbing_chain(scenario, 1.0, 0.0)
    index = {n: i for i, n in enumerate(transient)}
    graph = build_graph(scenario)

    def generating(z: float) -> float:
        q = np.zeros((len(transient), len(transient)))
        exits = np.zeros(len(transient))
        for u in transient:
            spec = scenario.steps.get(u)
            for branch, weight in (("success", 1.0), ("failure", z)):
                if spec is None and branch == "failure":
                    continue
                p_branch = (
                    1.0
                    if spec is None
                    else (spec.failure if branch == "failure" else 1 - spec.failure)
                )
                routing = None
                if spec is None:
                    contact = scenario.contacts[u]
                    routing = [
                        (contact.resolved, contact.fcr),
                        (contact.unresolved, 1 - contact.fcr),
                    ]
                else:
                    routing = [(spec.on_failure if branch == "failure" else spec.next, 1.0)]
                for table, p_out in routing:
                    for v, p in table.items():
                        mass = p_branch * p_out * p * weight
                        if graph.nodes[v]["kind"] == "outcome":
                            exits[index[u]] += mass
                        else:
                            q[index[u], index[v]] += mass
        return float(start @ np.linalg.solve(np.eye(len(q)) - q, exits))

    expected = (generating(amplification) - generating(0.0)) / amplification
    result = run(scenario, seed=5)
    severity = result.customers["severity"].to_numpy()
    half = Z99 * severity.std(ddof=1) / math.sqrt(len(severity))
    assert abs(severity.mean() - expected) < half
    assert expected > 0.3


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (Erlang B recursion, then Erlang C)."""
    a = arrival_rate / service_rate
    b = 1.0
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    c = servers * b / (servers - a * (1 - b))
    return c / (servers * service_rate - arrival_rate)


@pytest.mark.slow
def test_single_queue_with_exponential_times_matches_erlang_c():
    staff, per_hour, mean_service_min = 3, 30.0, 5.0
    data = {
        "name": "erlang",
        "customers": 60_000,
        "warmup": "1 day",
        "arrivals": {"rate": f"{per_hour} per h"},
        "start": "serve",
        "silos": {"desk": {"staff": staff}},
        "steps": {
            "serve": {
                "silo": "desk",
                "failure": 0.0,
                "service": {"dist": "exponential", "mean": f"{mean_service_min} min"},
                "next": "done",
            }
        },
        "outcomes": {"done": {}},
    }
    result = run(parse_scenario(data, "erlang.yaml"), seed=3)
    customers = result.customers
    waits = customers.loc[customers["arrival"] >= 1440, "wait"].to_numpy()
    expected = erlang_c_wait(per_hour / 60, 1 / mean_service_min, staff)
    # waits are autocorrelated: a 99% confidence interval from 40 batch means
    batches = np.array([b.mean() for b in np.array_split(waits, 40)])
    half = stats.t.ppf(0.995, len(batches) - 1) * batches.std(ddof=1) / math.sqrt(len(batches))
    assert abs(batches.mean() - expected) < half
    assert result.summary["silos"]["desk"]["mean_wait_min"] == pytest.approx(waits.mean(), rel=0.02)
    assert result.silos.loc["desk", "utilisation"] == pytest.approx(
        per_hour / 60 * mean_service_min / staff, abs=0.02
    )


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_a_deterministic_chain_of_k_failures_gives_severity_amplification_to_k_minus_one(k):
    amplification = 1.7
    names = [f"s{i}" for i in range(k)]
    steps = {
        name: {
            "silo": "ops",
            "service": "1 min",
            "failure": 1.0,
            "on_failure": names[i + 1] if i + 1 < k else "done",
            "next": "done",
        }
        for i, name in enumerate(names)
    }
    data = {
        "name": "chain",
        "customers": 50,
        "arrivals": {"rate": "10 per h"},
        "start": names[0],
        "silos": {"ops": {"staff": 1}},
        "steps": steps,
        "outcomes": {"done": {}},
        "experience": {"amplification": amplification, "compounding": 3.0},
    }
    customers = run(parse_scenario(data, "chain.yaml"), seed=1).customers
    assert (customers["failures"] == k).all()
    assert customers["severity"].to_numpy() == pytest.approx(
        np.full(50, amplification ** (k - 1)), rel=1e-12
    )
    assert (customers["first_failure"] == "s0").all()


@pytest.mark.slow
def test_same_seed_gives_identical_results_and_another_seed_differs(tiny_scenario):
    first, again, other = (run(tiny_scenario, seed=s, event_log=True) for s in (7, 7, 8))
    pd.testing.assert_frame_equal(first.customers, again.customers)
    pd.testing.assert_frame_equal(first.events, again.events)
    pd.testing.assert_frame_equal(first.timeseries, again.timeseries)
    assert first.summary == again.summary
    assert not first.customers["arrival"].equals(other.customers["arrival"])
    assert first.summary["failures_per_customer"] != other.summary["failures_per_customer"]


def test_variants_with_the_same_seed_share_arrivals_and_luck(tiny_scenario):
    more_staff = tiny_scenario.model_copy(
        update={
            "silos": {
                **tiny_scenario.silos,
                "ops": tiny_scenario.silos["ops"].model_copy(update={"staff": 9}),
            }
        }
    )
    base, variant = run(tiny_scenario, seed=4), run(more_staff, seed=4)
    assert base.customers["arrival"].equals(variant.customers["arrival"])
    assert variant.silos.loc["ops", "mean_wait_min"] < base.silos.loc["ops", "mean_wait_min"]


def test_without_event_log_no_events_are_kept(tiny_scenario):
    result = run(tiny_scenario, seed=2)
    assert result.events is None
    assert result.raw.events is None


@pytest.mark.slow
def test_recovered_single_failure_churns_at_the_recovery_adjusted_rate():
    # order always fails once, the contact always resolves: severity 1, recovered
    data = {
        "name": "recovery",
        "customers": 20_000,
        "arrivals": {"rate": "100 per h"},
        "start": "order",
        "silos": {"web": {"staff": "unlimited"}},
        "steps": {
            "order": {
                "silo": "web",
                "service": "1 min",
                "failure": 1.0,
                "on_failure": "help",
                "next": "done",
            },
            "retry": {"silo": "web", "service": "1 min", "failure": 0.0, "next": "done"},
        },
        "contacts": {
            "help": {
                "silo": "web",
                "handling": "2 min",
                "fcr": 1.0,
                "resolved": "retry",
                "unresolved": "done",
            }
        },
        "outcomes": {"done": {}},
        "experience": {
            "loyalty": {
                "base_churn": 0.1,
                "max_churn": 0.8,
                "severity_scale": 2.0,
                "recovery_effect": 0.5,
                "base_advocacy": 0.3,
                "advocacy_decay": 0.5,
            }
        },
    }
    customers = run(parse_scenario(data, "recovery.yaml"), seed=9).customers
    assert (customers["severity"] == 1.0).all() and customers["recovered"].all()
    churn = (0.8 - 0.7 * math.exp(-1 / 2.0)) * 0.5
    advocacy = 0.3 * math.exp(-0.5)
    n = len(customers)
    for outcome, p in (("churned", churn), ("advocate", advocacy)):
        share = float((customers["outcome"] == outcome).mean())
        assert abs(share - p) < Z99 * math.sqrt(p * (1 - p) / n), outcome


def test_customers_count_stops_arrivals_and_warmup_customers_are_not_measured(tiny_data):
    data = {**tiny_data, "customers": 500, "warmup": "12 h"}
    data.pop("horizon")
    result = run(parse_scenario(data, "tiny.yaml"), seed=1)
    assert len(result.customers) == 500
    after = int((result.customers["arrival"] >= 720).sum())
    assert result.summary["customers"] == after < 500
    assert result.summary["arrivals"] == 500


def test_horizon_stops_arrivals_and_drain_lets_journeys_finish(tiny_data):
    result = run(parse_scenario(tiny_data, "tiny.yaml"), seed=1)
    assert result.customers["arrival"].max() < 5 * 1440
    assert (result.customers["outcome"] != "in_progress").all()
    # 200 per day for 5 days: Poisson count within its 99.9% interval
    assert abs(len(result.customers) - 1000) < 3.3 * math.sqrt(1000)


def test_schedule_multipliers_shape_arrivals_by_hour(tiny_data):
    data = {
        **tiny_data,
        "horizon": "20 days",
        "arrivals": {
            "rate": "200 per day",
            "schedule": {"cycle": "day", "multipliers": [0.0, 1.0, 3.0, 0.0]},
        },
    }
    arrivals = run(parse_scenario(data, "tiny.yaml"), seed=1).customers["arrival"]
    slot = ((arrivals % 1440) // 360).astype(int).value_counts()
    assert set(slot.index) == {1, 2}
    # expected 50 and 150 per slot per day over 20 days
    for k, mean in ((1, 1000), (2, 3000)):
        assert abs(slot[k] - mean) < 3.3 * math.sqrt(mean)


def test_impatient_callers_abandon_redial_or_give_up(tiny_data):
    data = {**tiny_data, "silos": {**tiny_data["silos"], "support": {"staff": 1}}}
    data["contacts"] = {
        "help": {
            **tiny_data["contacts"]["help"],
            "patience": {"dist": "exponential", "mean": "30 s"},
            "redial": 0.5,
        }
    }
    data["arrivals"] = {"rate": "600 per day"}
    result = run(parse_scenario(data, "tiny.yaml"), seed=1, event_log=True)
    summary = result.summary
    events = result.events
    abandons = events[events["event"] == "abandon"]
    assert summary["abandons"] == len(abandons) > 0
    gave_up = result.customers[
        (result.customers["abandons"] > 0) & (result.customers["exit_node"] == "gone")
    ]
    assert len(gave_up) > 0
    assert (result.customers.loc[result.customers["abandons"] > 0, "severity"] > 0).all()


def test_the_simpy_internals_a_silo_relies_on_are_still_there():
    """Simpy is pinned below 4.2 for these; this test fails loudly if a release moves them.

    ``Silo.seize`` reads ``_capacity`` and ``put_queue``; ``Silo.free`` and staff changes
    call ``_trigger_put`` to let the queue move on after capacity grows.
    """
    import simpy

    from spiral.engines.staffing import Silo

    env = simpy.Environment()
    silo = Silo(env, 1)
    assert silo._capacity == 1 and list(silo.put_queue) == []
    assert silo.seize("first") is None  # a free server, taken at once
    waiting = silo.seize("second")
    assert waiting is not None and list(silo.put_queue) == [waiting]
    assert silo._env is env  # grant_or_timeout schedules on it
    woken = silo.grant_or_timeout(waiting, 5.0)
    env.run(until=woken)
    assert env.now == 5.0 and not waiting.triggered  # timed out, still waiting
    assert silo.set_staff(2) == 1  # staff added (_capacity, _trigger_put): granted at once
    assert waiting.triggered and silo.users == ["first", waiting]
    silo.free("first")
    assert silo.users == [waiting]
    assert silo.set_staff(0) == -2 and silo.capacity == 0  # closed: a roster's night
