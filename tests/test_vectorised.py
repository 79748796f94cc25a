"""The vectorised engine against the analytic engine and, in distribution, the SimPy engine."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from scipy import stats
from test_analytic import assert_within_99, expected, journeys, per_customer

from spiral.analysis.results import run
from spiral.engines.analytic import theory, unlimited, without_loops
from spiral.engines.dispatch import choose_engine
from spiral.model.loading import load_scenario, parse_scenario, with_length


@pytest.fixture(scope="module")
def airline():
    return without_loops(unlimited(load_scenario("airline_disruption")))


@pytest.mark.slow
def test_the_vectorised_engine_simulates_to_the_exact_expectations(airline):
    scenario = with_length(airline, customers=200_000)
    result = run(scenario, seed=4, engine="vectorised")
    assert result.summary["engine"] == "vectorised"
    assert result.summary["in_progress"] == 0
    assert_within_99(per_customer(result), expected(theory(scenario, tolerance=1e-10)))


@settings(
    max_examples=6, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=journeys())
def test_random_journeys_vectorised_match_their_exact_expectations(data):
    data["customers"] = 50_000
    scenario = parse_scenario(data, "random.yaml")
    result = run(scenario, seed=9, engine="vectorised")
    assert_within_99(per_customer(result), expected(theory(scenario)))


@pytest.mark.slow
def test_both_simulation_engines_agree_in_distribution(airline):
    scenario = with_length(airline, customers=20_000)
    des = run(scenario, seed=2).customers
    vec = run(scenario, seed=2, engine="vectorised").customers
    for column in ("failures", "severity", "contacts", "handoffs_cold"):
        p = stats.ks_2samp(des[column], vec[column]).pvalue
        assert p > 0.01, (column, p)
    visits = {}
    for name, frame in (("des", des), ("vec", vec)):
        visits[name] = frame["visits"].mean()
    assert visits["des"] == pytest.approx(visits["vec"], rel=0.03)


def test_chunks_bound_memory_and_keep_every_customer(airline):
    from spiral.engines.vectorised import simulate_vectorised

    scenario = with_length(airline, customers=5_000)
    raw = simulate_vectorised(scenario, 1, chunk=700)
    chunks = list(raw.customers.frames(raw.journey.names))
    assert max(len(c) for c in chunks) <= 700  # ceil(5000 / 700) chunks, split by segment
    frame = raw.customers.to_frame(raw.journey.names)
    assert frame["customer"].tolist() == list(range(5_000))
    assert (frame["outcome"] != "in_progress").all()


def test_the_run_tables_work_from_the_vectorised_engine(airline):
    result = run(with_length(airline, horizon=3 * 1440.0), seed=1, engine="vectorised")
    series = result.timeseries
    assert series["arrivals"].sum() == len(result.customers)
    assert series["failures"].sum() == result.customers["failures"].sum()
    assert series["contacts"].sum() == result.customers["contacts"].sum()
    assert result.spiral["customers"].sum() == result.summary["completed"]


def test_auto_picks_the_vectorised_engine_only_where_it_can(airline, tiny_scenario):
    assert choose_engine(airline, "auto", event_log=False, what_ifs=False) == "vectorised"
    assert choose_engine(airline, "auto", event_log=True, what_ifs=False) == "des"
    assert choose_engine(tiny_scenario, "auto", event_log=False, what_ifs=False) == "des"
    with pytest.raises(ValueError, match="silos.ops.staff: 3 staff make a queue"):
        choose_engine(tiny_scenario, "vectorised", event_log=False, what_ifs=False)
    with pytest.raises(ValueError, match="event log: the vectorised engine keeps none"):
        choose_engine(airline, "vectorised", event_log=True, what_ifs=False)
    with pytest.raises(ValueError, match="engine must be 'auto', 'des' or 'vectorised'"):
        choose_engine(airline, "fast", event_log=False, what_ifs=False)


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "customers"), [("vectorised", 100_000), ("des", 20_000)])
def test_empowerment_spend_follows_the_truncated_exponential_cost(engine, customers):
    # every customer fails, and every contact fails first time: only empowerment resolves
    mean, limit = 20.0, 15.0
    data = {
        "name": "empowered",
        "customers": customers,
        "warmup": 0,
        "arrivals": {"rate": "1000 per day"},
        "start": "order",
        "silos": {"web": {"staff": "unlimited"}, "support": {"staff": "unlimited"}},
        "steps": {
            "order": {
                "silo": "web",
                "self_service": True,
                "service": "5 min",
                "failure": 1.0,
                "on_failure": "help",
                "next": "done",
            }
        },
        "contacts": {
            "help": {
                "silo": "support",
                "handling": "8 min",
                "fcr": 0.0,
                "resolved": "done",
                "unresolved": "gone",
                "empowerment": {"limit": limit, "mean_cost": mean},
            }
        },
        "outcomes": {"done": {}, "gone": {"kind": "churn"}},
    }
    result = run(parse_scenario(data, "empowered.yaml"), seed=3, engine=engine)
    # cost C ~ Exp(mean); spend per customer X = C·1(C ≤ limit)
    tail = math.exp(-limit / mean)
    share = 1 - tail
    spend = mean - (limit + mean) * tail
    square = 2 * mean**2 - tail * (limit**2 + 2 * limit * mean + 2 * mean**2)
    z = 2.576
    n = len(result.customers)
    assert n == customers
    recovered = result.customers["recovered"].mean()
    assert abs(recovered - share) < z * math.sqrt(share * (1 - share) / n)
    per_customer_spend = result.raw.empowerment_spend / n
    assert abs(per_customer_spend - spend) < z * math.sqrt((square - spend**2) / n)
