"""Designs: grid combinations, stratified Latin hypercubes, Saltelli and Morris sizes."""

from __future__ import annotations

import numpy as np
import pytest

from spiral.sweeps.designs import design_points, levels, unit_points, value_at
from spiral.sweeps.sweep_file import Design, Range

PARAMETERS = {
    "a": Range(low=0.0, high=1.0),
    "b": Range(low="100 per day", high="200 per day"),
    "c": ["x", "y", "z"],
}


def test_a_grid_takes_every_combination_with_ranges_evenly_spaced_ends_included():
    points = design_points(Design(kind="grid", levels=3), PARAMETERS, seed=1)
    assert len(points) == 3 * 3 * 3
    assert sorted({p["a"] for p in points}) == [0.0, 0.5, 1.0]
    assert sorted({p["b"] for p in points}) == ["100 per day", "150 per day", "200 per day"]
    assert {p["c"] for p in points} == {"x", "y", "z"}
    assert len({tuple(p.values()) for p in points}) == 27


def test_a_latin_hypercube_puts_one_point_in_every_slice_of_every_axis():
    n = 20
    cube = unit_points(Design(kind="lhs", samples=n), ["a", "b", "c"], seed=5)
    assert cube.shape == (n, 3)
    for axis in range(3):
        assert sorted(np.floor(cube[:, axis] * n).astype(int)) == list(range(n))


@pytest.mark.parametrize(("kind", "runs"), [("sobol", 8 * (3 + 2)), ("morris", 8 * (3 + 1))])
def test_salib_designs_have_their_textbook_sizes(kind, runs):
    points = design_points(Design(kind=kind, samples=8), PARAMETERS, seed=2)
    assert len(points) == runs


def test_the_same_seed_gives_the_same_points_and_another_seed_others():
    design = Design(kind="lhs", samples=5)
    one = design_points(design, PARAMETERS, seed=1)
    assert one == design_points(design, PARAMETERS, seed=1)
    assert one != design_points(design, PARAMETERS, seed=2)


def test_a_list_is_cut_into_equal_slices_of_the_unit_interval():
    values = ["x", "y", "z"]
    assert [value_at(values, u) for u in (0.0, 0.33, 0.34, 0.66, 0.67, 0.999, 1.0)] == [
        "x",
        "x",
        "y",
        "y",
        "z",
        "z",
        "z",
    ]
    assert levels(values, 7) == values  # a list is its own grid
