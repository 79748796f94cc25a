"""spiral: a customer-journey death-spiral simulator.

Public API:

========================  =====================================================
``load_scenario``         read, validate and check a scenario file or built-in
``parse_scenario``        validate a scenario given as plain data
``builtin_scenarios``     the built-in scenarios by name
``build_graph``           the journey as a ``networkx.DiGraph``
``run``                   simulate a scenario once -> ``RunResult``
``compare``               baseline vs what-ifs over replications -> ``Comparison``
``Comparison``            ``.table`` (tidy), ``.runs``, ``.effects``, ``.notes``
``RunResult``             ``.summary``, ``.customers``, ``.events``, ``.timeseries``
``Scenario``              the validated scenario model (pydantic)
``ScenarioError``         bad input: one line per problem
========================  =====================================================
"""

from spiral.analysis.compare import Comparison, compare
from spiral.analysis.results import RunResult, run
from spiral.model.errors import ScenarioError
from spiral.model.graph import build_graph
from spiral.model.loading import builtin_scenarios, load_scenario, parse_scenario
from spiral.model.scenario import Scenario

__all__ = [
    "Comparison",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "build_graph",
    "builtin_scenarios",
    "compare",
    "load_scenario",
    "parse_scenario",
    "run",
]
