"""spiral: a customer-journey death-spiral simulator.

Public API (one entry point per task; ``import spiral`` loads nothing heavy until used):

========================  =====================================================
``load_scenario``         read, validate and check a scenario file or built-in
``parse_scenario``        validate a scenario given as plain data
``builtin_scenarios``     the built-in scenarios by name
``with_length``           the same scenario run for a horizon or a customer count
``build_graph``           the journey as a ``networkx.DiGraph``
``run``                   simulate a scenario once -> ``RunResult``
``compare``               baseline vs what-ifs over replications -> ``Comparison``
``explain``               exact answers and which step to fix first -> ``Explanation``
``sweep``                 run a sweep file into a folder -> ``SweepOutcome``
``report``                write a self-contained HTML report -> its path
``Comparison``            ``.table`` (tidy), ``.runs``, ``.effects``, ``.notes``
``Explanation``           ``.theory`` (exact numbers), ``.ranking`` (fix first), ``.what_ifs``
``NoClosedForm``          what ``explain`` raises for queues or loops it cannot solve
``RunResult``             ``.summary``, ``.customers``, ``.events``, ``.timeseries``
``Scenario``              the validated scenario model (pydantic)
``ScenarioError``         bad input: one line per problem
``SweepOutcome``          runs ok and failed, where the results are
========================  =====================================================
"""

from __future__ import annotations

import importlib

_HOMES = {
    "Comparison": "spiral.analysis.compare",
    "Explanation": "spiral.analysis.explanation",
    "NoClosedForm": "spiral.engines.analytic",
    "RunResult": "spiral.analysis.results",
    "Scenario": "spiral.model.scenario",
    "ScenarioError": "spiral.model.errors",
    "SweepOutcome": "spiral.sweeps.execution",
    "build_graph": "spiral.model.graph",
    "builtin_scenarios": "spiral.model.loading",
    "compare": "spiral.analysis.compare",
    "explain": "spiral.analysis.explanation",
    "load_scenario": "spiral.model.loading",
    "parse_scenario": "spiral.model.loading",
    "report": "spiral.views.report",
    "run": "spiral.analysis.results",
    "sweep": "spiral.sweeps.execution",
    "with_length": "spiral.model.loading",
}

__all__ = sorted(_HOMES)


def _version() -> str:
    from importlib import metadata  # ≈ 50 ms: read only when asked for

    try:
        return metadata.version("spiral")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


def __getattr__(name: str) -> object:
    """Import a public name from its module the first time it is used."""
    if name == "__version__":
        globals()[name] = version = _version()
        return version
    if name not in _HOMES:
        raise AttributeError(f"module 'spiral' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public API with the module's own names."""
    return sorted({*globals(), *__all__})
