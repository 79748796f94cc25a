"""Experimental designs: the points of a sweep, from a full grid or a seeded sample.

Sampled designs draw points in the unit cube — Latin hypercube from ``scipy.stats.qmc``,
Saltelli's sample for Sobol indices and Morris trajectories from SALib — and map each
coordinate to a value: along a range linearly, over a list by equal slices.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from spiral.sweeps.sweep_file import Design, Range


def salib_problem(names: list[str]) -> dict:
    """Return SALib's problem description: every parameter on the unit interval."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def unit_points(design: Design, names: list[str], seed: int) -> np.ndarray:
    """Return the design's points in the unit cube, one row per point (not for grids)."""
    d = len(names)
    if design.kind == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(design.samples)
    if design.kind == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            salib_problem(names), design.samples, calc_second_order=False, seed=seed
        )
    if design.kind == "morris":
        from SALib.sample import morris

        return morris.sample(
            salib_problem(names), design.samples, num_levels=design.levels, seed=seed
        )
    raise ValueError(f"a {design.kind} design has no unit-cube sample")


def value_at(values: Range | list, u: float) -> object:
    """Return the value a unit coordinate ``u`` stands for."""
    if isinstance(values, Range):
        return values.at(float(u))
    k = len(values)
    return values[min(int(u * k), k - 1)]


def levels(values: Range | list, count: int) -> list:
    """Return a grid's values: the list itself, or ``count`` evenly spaced over a range."""
    if isinstance(values, Range):
        found = [values.at(i / (count - 1)) for i in range(count)]
        return list(dict.fromkeys(found))  # an integer range may give a value twice
    return list(values)


def design_size(design: Design, parameters: dict[str, Range | list]) -> int:
    """Return how many points a design has, without making them."""
    d = len(parameters)
    if design.kind == "grid":
        return math.prod(len(levels(values, design.levels)) for values in parameters.values())
    if design.kind == "sobol":
        return design.samples * (d + 2)
    if design.kind == "morris":
        return design.samples * (d + 1)
    return design.samples


def design_points(design: Design, parameters: dict[str, Range | list], seed: int) -> list[dict]:
    """Return every point of the design as {parameter: value}, in design order."""
    names = list(parameters)
    if design.kind == "grid":
        axes = [levels(parameters[n], design.levels) for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    cube = unit_points(design, names, seed)
    return [
        {n: value_at(parameters[n], u) for n, u in zip(names, row, strict=True)} for row in cube
    ]
