"""One customer: the spiral beside a recovery, both true to the run's customer table."""

from __future__ import annotations

from spiral.analysis.results import run
from spiral.studio.stories import recovered_customer, two_stories


def test_the_recovered_customer_met_a_failure_and_stayed_calm(tiny_scenario):
    result = run(tiny_scenario, seed=2)
    chosen = recovered_customer(result)
    row = result.customers.set_index("customer").loc[chosen]
    assert row["failures"] > 0 and row["outcome"] != "churned"
    assert not row["social"] and not row["ceo"]
    table = result.customers
    earlier = table[(table["customer"] < chosen) & (table["failures"] > 0)]
    calm = (earlier["outcome"] != "churned") & (earlier["social"] == 0) & (earlier["ceo"] == 0)
    calm &= earlier["outcome"] != "in_progress"
    assert not calm.any()  # the first such customer


def test_two_stories_tell_a_spiral_and_a_recovery_from_one_run(tiny_scenario):
    spiralled, recovered = two_stories(tiny_scenario, seed=2)
    result = run(tiny_scenario, seed=2)
    worst = int(spiralled[0].split()[1])
    calm = int(recovered[0].split()[1])
    assert calm == recovered_customer(result)
    rows = result.customers.set_index("customer")
    assert rows.loc[worst, "failures"] >= rows.loc[calm, "failures"]
    assert "(seed 2" in spiralled[0] and "(seed 2" in recovered[0]
    assert sum("FAILED" in line for line in recovered) >= 1
