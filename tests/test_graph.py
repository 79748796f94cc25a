"""The journey graph and every structural check, each matched by its message."""

from __future__ import annotations

import copy

import pytest
from examples import TINY

from spiral.errors import ScenarioError
from spiral.graph import build_graph
from spiral.loading import parse_scenario


def test_graph_has_kinds_silos_probabilities_and_handoffs():
    graph = build_graph(parse_scenario(TINY, "tiny.yaml"))
    assert graph.nodes["order"] == {"kind": "step", "silo": "web", "self_service": True}
    assert graph.nodes["help"]["kind"] == "contact" and graph.nodes["done"]["kind"] == "outcome"
    assert graph.edges["order", "ship"]["p"] == pytest.approx(0.9)
    assert graph.edges["order", "help"]["p"] == pytest.approx(0.1)
    assert graph.edges["help", "ship"]["p"] == pytest.approx(0.6)
    assert graph.edges["help", "help"]["p"] == pytest.approx(0.4 * 0.8)
    assert graph.edges["help", "gone"]["p"] == pytest.approx(0.4 * 0.2)
    assert graph.edges["order", "ship"]["handoff"]  # web -> ops
    assert not graph.edges["help", "help"]["handoff"]
    assert not graph.edges["ship", "done"]["handoff"]  # outcomes belong to no silo
    for node in graph:
        if graph.nodes[node]["kind"] != "outcome":
            assert sum(d["p"] for _, _, d in graph.out_edges(node, data=True)) == pytest.approx(1)


def broken(change) -> list[str]:
    """Apply ``change`` to a copy of the tiny scenario and return the reported lines."""
    data = copy.deepcopy(TINY)
    change(data)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "bad.yaml")
    return caught.value.lines()


def _unknown_node(d):
    d["steps"]["ship"]["next"] = "dun"


def _unknown_silo(d):
    d["steps"]["ship"]["silo"] = "logistics"


def _unknown_give_up(d):
    d["contacts"]["help"]["give_up"] = "vanished"


def _routing_sum(d):
    d["contacts"]["help"]["unresolved"] = {"help": 0.5, "gone": 0.2}


def _start_sum(d):
    d["start"] = {"order": 0.5}


def _no_on_failure(d):
    del d["steps"]["ship"]["on_failure"]


def _outcome_next(d):
    d["outcomes"]["done"] = {"next": "order"}


def _unreachable(d):
    d["steps"]["orphan"] = {"silo": "ops", "service": "1 min", "next": "done"}


def _no_exit(d):
    d["steps"]["ship"]["next"] = "loop_a"
    d["steps"]["loop_a"] = {"silo": "ops", "next": "loop_b"}
    d["steps"]["loop_b"] = {"silo": "ops", "next": "loop_a"}


def _duplicate_name(d):
    d["outcomes"]["ship"] = {}


def _probability_range(d):
    d["steps"]["ship"]["failure"] = 1.4


def _negative_probability(d):
    d["contacts"]["help"]["fcr"] = -0.1


def _zero_staff(d):
    d["silos"]["ops"]["staff"] = 0


def _unknown_field(d):
    d["steps"]["ship"]["failrue"] = 0.1


def _missing_field(d):
    del d["contacts"]["help"]["fcr"]


def _both_lengths(d):
    d["customers"] = 100


def _bare_number_duration(d):
    d["steps"]["order"]["service"] = 5


def _patience_without_give_up(d):
    del d["contacts"]["help"]["give_up"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_unknown_node, "bad.yaml: steps.ship.next: unknown node 'dun' (expected one of:"),
        (
            _unknown_silo,
            "bad.yaml: steps.ship.silo: unknown silo 'logistics' (expected one of: "
            "web, ops, support)",
        ),
        (_unknown_give_up, "bad.yaml: contacts.help.give_up: unknown outcome 'vanished'"),
        (
            _routing_sum,
            "bad.yaml: contacts.help.unresolved: routing probabilities sum to 0.7, expected 1",
        ),
        (_start_sum, "bad.yaml: start: routing probabilities sum to 0.5, expected 1"),
        (_no_on_failure, "bad.yaml: steps.ship.on_failure: missing: expected a node for failures"),
        (
            _outcome_next,
            "bad.yaml: outcomes.done: outcome has outgoing edges to order; expected none",
        ),
        (_unreachable, "bad.yaml: steps.orphan: unreachable from start; expected a path to it"),
        (
            _no_exit,
            "bad.yaml: steps.loop_a: cannot reach any outcome (customers would loop forever)",
        ),
        (_duplicate_name, "bad.yaml: outcomes.ship: duplicate node name; expected unique names"),
        (
            _probability_range,
            "bad.yaml: steps.ship.failure: expected a probability in [0, 1], got 1.4",
        ),
        (
            _negative_probability,
            "bad.yaml: contacts.help.fcr: expected a probability in [0, 1], got -0.1",
        ),
        (_zero_staff, "bad.yaml: silos.ops.staff: expected at least 1 staff or 'unlimited', got 0"),
        (_unknown_field, "bad.yaml: steps.ship.failrue: unknown field"),
        (_missing_field, "bad.yaml: contacts.help.fcr: missing; expected this field"),
        (
            _both_lengths,
            "bad.yaml: (top level): expected exactly one of horizon (a duration) or "
            "customers (a count)",
        ),
        (
            _bare_number_duration,
            "bad.yaml: steps.order.service.value: expected a duration with a unit like '8 min'",
        ),
        (
            _patience_without_give_up,
            "bad.yaml: contacts.help: expected give_up (an outcome) when patience is set",
        ),
    ],
)
def test_each_structural_problem_is_one_line_naming_file_field_and_expectation(change, expected):
    lines = broken(change)
    assert any(line.startswith(expected) for line in lines), lines
    assert all(line.startswith("bad.yaml: ") and "\n" not in line for line in lines)


def test_all_problems_are_reported_at_once():
    def several(d):
        _unknown_node(d)
        _routing_sum(d)
        _unknown_silo(d)

    lines = broken(several)
    fields = {line.split(": ")[1] for line in lines}
    assert fields == {"steps.ship.next", "contacts.help.unresolved", "steps.ship.silo"}
