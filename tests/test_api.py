"""The public API: ``__all__`` is exactly the documented table, and import does nothing else."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import spiral


def test_the_documented_api_table_equals_all():
    documented = re.findall(r"^``(\w+)``", spiral.__doc__, flags=re.MULTILINE)
    assert sorted(documented) == sorted(spiral.__all__)
    assert spiral.__all__ == sorted(spiral.__all__)
    for name in spiral.__all__:
        assert getattr(spiral, name).__doc__, name


def test_importing_spiral_loads_nothing_heavy_until_a_function_needs_it():
    """No CLI, plotting, tables or statistics on ``import spiral``; ``spiral.run`` loads them."""
    code = (
        "import sys, spiral; heavy = ('typer', 'rich', 'matplotlib', 'pandas', 'scipy', "
        "'pyarrow', 'simpy', 'networkx', 'pydantic'); "
        "print(sorted(m for m in sys.modules if m.startswith('spiral.') "
        "or m.split('.')[0] in heavy)); spiral.run; print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "True"]


def test_the_version_is_the_installed_one():
    from importlib import metadata

    assert spiral.__version__ == metadata.version("spiral")


@pytest.mark.slow  # subprocesses and a sweep: the fast tier stays under a minute
def test_explain_sweep_and_report_are_one_call_each(tmp_path):
    """The front door: one Python entry point per task, keyword options, no positional flags."""
    scenario = spiral.with_length(spiral.load_scenario("online_retail"), horizon=4 * 1440.0)
    explanation = spiral.explain(scenario, unlimited=True, factor=0.5)
    assert explanation.ranking.index[0] in scenario.steps
    assert 0 < explanation.theory.churn_rate < 1
    with pytest.raises(ValueError, match="unlimited staff"):
        spiral.explain(scenario)  # queues have no closed form unless asked for
    page = spiral.report(scenario, tmp_path / "report.html", seed=2)
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        "scenario: online_retail\nhorizon: 4 days\ndesign: {kind: lhs, samples: 2}\n"
        "parameters: {steps.deliver.failure: {low: 0.05, high: 0.2}}\n"
    )
    outcome = spiral.sweep(sweep_file, tmp_path / "out", workers=1)
    assert outcome.ok == 2 and outcome.results is not None
