"""Two customers' stories side by side: one who spiralled, one who met a failure and stayed."""

from __future__ import annotations

from spiral.analysis.results import RunResult, run
from spiral.model.scenario import Scenario
from spiral.views.trace import NoSuchCustomer, pick_customer, story


def recovered_customer(result: RunResult) -> int:
    """Return a customer who met a failure and still stayed without escalating.

    The first such customer; failing that, the first customer who finished untouched.
    """
    table = result.customers
    done = table[table["outcome"] != "in_progress"]
    calm = done[(done["outcome"] != "churned") & (done["social"] == 0) & (done["ceo"] == 0)]
    failed = calm[calm["failures"] > 0]
    chosen = failed if len(failed) else calm
    if not len(chosen):
        raise NoSuchCustomer("every finished customer churned or escalated in this run")
    return int(chosen["customer"].iloc[0])


def two_stories(scenario: Scenario, seed: int) -> list[list[str]]:
    """Return the stories of a customer who spiralled and of one who did not (same run)."""
    result = run(scenario, seed=seed, event_log=True)
    try:
        spiralled = pick_customer(result, spiral=True)
    except NoSuchCustomer:
        spiralled = pick_customer(result, worst=True)
    return [story(result, spiralled), story(result, recovered_customer(result))]
