"""The journey graph and every structural check, each matched by its full message."""

from __future__ import annotations

import copy

import pytest
from examples import TINY

from spiral.model.errors import ScenarioError
from spiral.model.graph import build_graph, check_scenario
from spiral.model.loading import parse_scenario
from spiral.model.scenario import Scenario

ALL_NODES = "order, ship, help, done, gone"


def test_nodes_carry_kind_silo_self_service_and_whether_customers_give_up(tiny_scenario):
    graph = build_graph(tiny_scenario)
    assert graph.graph["name"] == "tiny" and graph.graph["start"] == {"order": 1.0}
    assert dict(graph.nodes(data=True)) == {
        "order": {"kind": "step", "silo": "web", "self_service": True},
        "ship": {"kind": "step", "silo": "ops", "self_service": False},
        "help": {"kind": "contact", "silo": "support", "self_service": False, "gives_up": True},
        "done": {"kind": "outcome", "silo": None, "self_service": True},
        "gone": {"kind": "outcome", "silo": None, "self_service": True},
    }


def test_edge_probabilities_are_branch_probability_times_routing(tiny_scenario):
    graph = build_graph(tiny_scenario)
    p = {(u, v): round(d["p"], 12) for u, v, d in graph.edges(data=True)}
    # order fails 0.1 -> help; ship fails 0.2 -> help; help resolves 0.6 -> ship,
    # else 0.4 × (0.8 help again, 0.2 gone); give_up is a zero-weight branch to gone
    assert p == {
        ("order", "ship"): 0.9,
        ("order", "help"): 0.1,
        ("ship", "done"): 0.8,
        ("ship", "help"): 0.2,
        ("help", "ship"): 0.6,
        ("help", "help"): 0.32,
        ("help", "gone"): 0.08,
    }
    assert graph.edges["order", "help"]["branches"] == {"failure": 1.0}
    assert graph.edges["help", "gone"]["branches"] == {"unresolved": 0.2, "give_up": 1.0}
    assert graph.edges["help", "help"]["branches"] == {"unresolved": 0.8}


def test_two_branches_to_the_same_node_add_up_on_one_edge(tiny_data):
    tiny_data["contacts"]["help"]["unresolved"] = {"ship": 0.5, "gone": 0.5}
    graph = build_graph(parse_scenario(tiny_data, "tiny.yaml"))
    edge = graph.edges["help", "ship"]
    assert edge["p"] == pytest.approx(0.6 + 0.4 * 0.5)
    assert edge["branches"] == {"resolved": 1.0, "unresolved": 0.5}


def test_out_probabilities_of_every_non_outcome_sum_to_one(tiny_scenario):
    graph = build_graph(tiny_scenario)
    for node, kind in graph.nodes(data="kind"):
        total = sum(d["p"] for _, _, d in graph.out_edges(node, data=True))
        assert total == pytest.approx(0 if kind == "outcome" else 1), node


def test_only_edges_between_two_different_silos_are_handoffs(tiny_scenario):
    graph = build_graph(tiny_scenario)
    handoffs = {(u, v) for u, v, is_handoff in graph.edges(data="handoff") if is_handoff}
    # web -> ops, web -> support, ops -> support, support -> ops; help -> help stays in
    # support, and outcomes belong to no silo
    assert handoffs == {("order", "ship"), ("order", "help"), ("ship", "help"), ("help", "ship")}


def test_a_same_silo_edge_is_not_a_handoff(tiny_data):
    tiny_data["steps"]["ship"]["silo"] = "web"
    graph = build_graph(parse_scenario(tiny_data, "tiny.yaml"))
    assert graph.edges["order", "ship"]["handoff"] is False
    assert graph.edges["ship", "help"]["handoff"] is True


def test_the_tiny_scenario_has_no_structural_problems(tiny_scenario):
    assert check_scenario(tiny_scenario) == []


def broken(change) -> list[str]:
    """Apply ``change`` to a copy of the tiny scenario and return the reported lines."""
    data = copy.deepcopy(TINY)
    change(data)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "bad.yaml")
    return caught.value.lines()


def _duplicate_name(d):
    d["outcomes"]["ship"] = {}


def _duplicate_contact_name(d):
    d["contacts"]["order"] = copy.deepcopy(d["contacts"]["help"])


def _unknown_next(d):
    d["steps"]["ship"]["next"] = "dun"


def _unknown_in_routing_map(d):
    d["contacts"]["help"]["unresolved"] = {"help": 0.8, "gon": 0.2}


def _unknown_on_failure(d):
    d["steps"]["order"]["on_failure"] = "helpdesk"


def _unknown_start(d):
    d["start"] = "begin"


def _unknown_silo(d):
    d["steps"]["ship"]["silo"] = "logistics"


def _unknown_contact_silo(d):
    d["contacts"]["help"]["silo"] = "callcentre"


def _unknown_give_up(d):
    d["contacts"]["help"]["give_up"] = "vanished"


def _give_up_is_a_step(d):
    d["contacts"]["help"]["give_up"] = "ship"


def _routing_sum(d):
    d["contacts"]["help"]["unresolved"] = {"help": 0.5, "gone": 0.2}


def _routing_over_one(d):
    d["steps"]["order"]["next"] = {"ship": 0.9, "help": 0.2}


def _start_sum(d):
    d["start"] = {"order": 0.5}


def _empty_routing(d):
    d["steps"]["ship"]["next"] = {}


def _no_on_failure(d):
    del d["steps"]["ship"]["on_failure"]


def _outcome_next(d):
    d["outcomes"]["done"] = {"next": "order"}


def _unreachable(d):
    d["steps"]["orphan"] = {"silo": "ops", "service": "1 min", "next": "done"}


def _unreachable_outcome(d):
    d["outcomes"]["praised"] = {}


def _no_exit(d):
    d["steps"]["ship"]["next"] = "loop_a"
    d["steps"]["loop_a"] = {"silo": "ops", "next": "loop_b"}
    d["steps"]["loop_b"] = {"silo": "ops", "next": "loop_a"}


def _no_exit_but_a_zero_probability_edge(d):
    d["contacts"]["help"]["unresolved"] = {"help": 1.0, "gone": 0.0}
    d["contacts"]["help"]["fcr"] = 0.0
    del d["contacts"]["help"]["patience"]
    del d["contacts"]["help"]["give_up"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_duplicate_name, "bad.yaml: outcomes.ship: duplicate node name; expected unique names"),
        (
            _duplicate_contact_name,
            "bad.yaml: contacts.order: duplicate node name; expected unique names",
        ),
        (
            _unknown_next,
            f"bad.yaml: steps.ship.next: unknown node 'dun' (expected one of: {ALL_NODES})",
        ),
        (
            _unknown_in_routing_map,
            "bad.yaml: contacts.help.unresolved: unknown node 'gon' "
            f"(expected one of: {ALL_NODES})",
        ),
        (
            _unknown_on_failure,
            "bad.yaml: steps.order.on_failure: unknown node 'helpdesk' "
            f"(expected one of: {ALL_NODES})",
        ),
        (_unknown_start, f"bad.yaml: start: unknown node 'begin' (expected one of: {ALL_NODES})"),
        (
            _unknown_silo,
            "bad.yaml: steps.ship.silo: unknown silo 'logistics' (expected one of: "
            "web, ops, support)",
        ),
        (
            _unknown_contact_silo,
            "bad.yaml: contacts.help.silo: unknown silo 'callcentre' (expected one of: "
            "web, ops, support)",
        ),
        (
            _unknown_give_up,
            "bad.yaml: contacts.help.give_up: unknown outcome 'vanished' "
            "(expected one of: done, gone)",
        ),
        (
            _give_up_is_a_step,
            "bad.yaml: contacts.help.give_up: unknown outcome 'ship' (expected one of: done, gone)",
        ),
        (
            _routing_sum,
            "bad.yaml: contacts.help.unresolved: routing probabilities sum to 0.7, expected 1",
        ),
        (
            _routing_over_one,
            "bad.yaml: steps.order.next: routing probabilities sum to 1.1, expected 1",
        ),
        (_start_sum, "bad.yaml: start: routing probabilities sum to 0.5, expected 1"),
        (_empty_routing, "bad.yaml: steps.ship.next: routing probabilities sum to 0, expected 1"),
        (
            _no_on_failure,
            "bad.yaml: steps.ship.on_failure: missing: expected a node for failures (failure > 0)",
        ),
        (
            _outcome_next,
            "bad.yaml: outcomes.done: outcome has outgoing edges to order; expected none",
        ),
        (_unreachable, "bad.yaml: steps.orphan: unreachable from start; expected a path to it"),
        (
            _unreachable_outcome,
            "bad.yaml: outcomes.praised: unreachable from start; expected a path to it",
        ),
        (
            _no_exit,
            "bad.yaml: steps.loop_a: cannot reach any outcome (customers would loop forever); "
            "expected a path with positive probability to an outcome",
        ),
        (
            _no_exit_but_a_zero_probability_edge,
            "bad.yaml: contacts.help: cannot reach any outcome (customers would loop forever); "
            "expected a path with positive probability to an outcome",
        ),
    ],
)
def test_each_structural_problem_is_one_line_naming_file_field_and_expectation(change, expected):
    lines = broken(change)
    assert expected in lines, lines
    assert all(line.startswith("bad.yaml: ") and "\n" not in line for line in lines)


def test_every_node_of_a_trap_loop_is_reported_and_nothing_else():
    def change(d):
        _no_exit(d)
        d["steps"]["ship"]["next"] = {"done": 0.5, "loop_a": 0.5}  # done stays reachable

    fields = sorted(line.split(": ")[1] for line in broken(change))
    assert fields == ["steps.loop_a", "steps.loop_b"]


def test_routing_within_the_tolerance_of_one_is_accepted(tiny_data):
    tiny_data["contacts"]["help"]["unresolved"] = {"help": 0.8 + 5e-7, "gone": 0.2}
    assert check_scenario(parse_scenario(tiny_data, "tiny.yaml")) == []


def test_routing_just_outside_the_tolerance_of_one_is_reported():
    def change(d):
        d["contacts"]["help"]["unresolved"] = {"help": 0.80001, "gone": 0.2}

    assert broken(change) == [
        "bad.yaml: contacts.help.unresolved: routing probabilities sum to 1.00001, expected 1"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["steps"]["ship"].update(failure=1.4),
            "bad.yaml: steps.ship.failure: expected a probability in [0, 1], got 1.4",
        ),
        (
            lambda d: d["contacts"]["help"].update(fcr=-0.1),
            "bad.yaml: contacts.help.fcr: expected a probability in [0, 1], got -0.1",
        ),
        (
            lambda d: d["steps"]["ship"].update(next={"done": 1.5}),
            "bad.yaml: steps.ship.next.done: expected a probability in [0, 1], got 1.5",
        ),
        (
            lambda d: d["contacts"]["help"].update(unresolved={"help": 1.2, "gone": -0.2}),
            "bad.yaml: contacts.help.unresolved.help: expected a probability in [0, 1], got 1.2",
        ),
        (
            lambda d: d.update(start={"order": "all"}),
            "bad.yaml: start.order: expected a probability in [0, 1], got 'all'",
        ),
        (
            lambda d: d["steps"]["order"].update(failure=True),
            "bad.yaml: steps.order.failure: expected a probability in [0, 1], got True",
        ),
    ],
)
def test_probabilities_outside_zero_to_one_are_refused_at_their_field(change, expected):
    lines = broken(change)
    assert expected in lines, lines


def test_a_routing_map_reports_each_bad_probability_separately():
    lines = broken(lambda d: d["contacts"]["help"].update(unresolved={"help": 1.2, "gone": -0.2}))
    assert [line.split(": ")[1] for line in lines] == [
        "contacts.help.unresolved.help",
        "contacts.help.unresolved.gone",
    ]


def test_an_outcome_with_next_to_an_unknown_node_is_reported():
    lines = broken(lambda d: d["outcomes"].update(done={"next": "nowhere"}))
    assert any(line.startswith("bad.yaml: outcomes.done") for line in lines), lines


def test_a_contact_whose_only_exit_is_give_up_without_patience_cannot_reach_an_outcome():
    def change(d):
        help_ = d["contacts"]["help"]
        help_.update(fcr=0.0, unresolved="help")
        del help_["patience"]

    lines = broken(change)
    assert any(
        line.startswith("bad.yaml: contacts.help: cannot reach any outcome") for line in lines
    ), lines


def test_reference_problems_are_reported_all_at_once():
    def several(d):
        _unknown_next(d)
        _routing_sum(d)
        _unknown_silo(d)
        _no_on_failure(d)

    fields = {line.split(": ")[1] for line in broken(several)}
    assert fields == {
        "steps.ship.next",
        "contacts.help.unresolved",
        "steps.ship.silo",
        "steps.ship.on_failure",
    }


def test_check_scenario_returns_field_and_expectation_pairs(tiny_data):
    tiny_data["steps"]["ship"]["next"] = "dun"
    scenario = Scenario.model_validate(tiny_data)  # valid fields, broken structure
    assert check_scenario(scenario) == [
        ("steps.ship.next", f"unknown node 'dun' (expected one of: {ALL_NODES})")
    ]
