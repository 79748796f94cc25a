"""Statistical guard rails: whether a sweep's sample is big enough for its indices.

Sobol estimators are only consistent: with a small base sample N, first-order indices
come out above total ones (impossible: S1 <= ST), negative or above 1 (indices are shares
of variance), or with bootstrap intervals
wider than the indices themselves (Saltelli, Annoni, Azzini, Campolongo, Ratto & Tarantola
2010, "Variance based sensitivity analysis of model output. Design and estimator for the
total sensitivity index", Computer Physics Communications 181(2), 259-270). Their intervals
shrink as 1/√N, so the N that would bring the widest interval down to ``TARGET_CONF``
is N × (widest / target)², rounded up to a power of two. Morris's μ* intervals shrink as
1/√r in the trajectories r. Replications: a design point whose 95% interval is wider
than its mean says nothing about that point.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spiral.sweeps.sweep_file import SweepFile

SLACK = 0.05  # indices are estimates: S1 above ST, or below 0, by less than this is noise
INFLUENTIAL = 0.05  # an index this large matters; its interval must not swamp it
TARGET_CONF = 0.1  # the widest 95% interval a Sobol or Morris index should have


def _power_of_two_above(n: float) -> int:
    return 2 ** math.ceil(math.log2(max(n, 2)))


def sobol_warnings(spec: SweepFile, indices: pd.DataFrame) -> list[str]:
    """Return one line per metric whose Sobol indices show the sample is too small."""
    lines = []
    n = spec.design.samples
    for metric, mine in indices.groupby("metric", sort=False):
        order = list(dict.fromkeys(mine["parameter"]))  # the sweep file's order
        wide = mine.pivot(index="parameter", columns="index", values="value").loc[order]
        conf = mine.pivot(index="parameter", columns="index", values="conf").loc[order]
        problems = []
        above = wide.index[wide["S1"] > wide["ST"] + SLACK]
        if len(above):
            problems.append(f"S1 > ST for {', '.join(above)}")
        negative = wide.index[(wide[["S1", "ST"]] < -SLACK).any(axis=1)]
        if len(negative):
            problems.append(f"negative indices for {', '.join(negative)}")
        over = wide.index[(wide[["S1", "ST"]] > 1 + SLACK).any(axis=1)]
        if len(over):
            problems.append(f"indices above 1 for {', '.join(over)}")
        swamped = wide.index[(wide["ST"] >= INFLUENTIAL) & (conf["ST"] > wide["ST"].abs())]
        if len(swamped):
            problems.append(f"ST intervals wider than ST for {', '.join(swamped)}")
        if problems:
            widest = float(np.nanmax(conf.to_numpy()))
            needed = _power_of_two_above(n * max(widest / TARGET_CONF, 2**0.5) ** 2)
            lines.append(
                f"{metric}: Sobol with N = {n} is too small ({'; '.join(problems)}; widest "
                f"interval ±{widest:.2f}); expected design.samples: {needed} or more"
            )
    return lines


def morris_warnings(spec: SweepFile, indices: pd.DataFrame) -> list[str]:
    """Return one line per metric whose μ* intervals swamp the influential parameters."""
    lines = []
    r = spec.design.samples
    for metric, mine in indices[indices["index"] == "mu_star"].groupby("metric", sort=False):
        top = mine["value"].abs().max()
        scaled = mine.assign(value=mine["value"] / top, conf=mine["conf"] / top) if top else mine
        swamped = scaled[(scaled["value"] >= INFLUENTIAL) & (scaled["conf"] > scaled["value"])]
        if len(swamped):
            widest = float(scaled["conf"].max())
            needed = math.ceil(r * max(widest / TARGET_CONF, 2**0.5) ** 2)
            lines.append(
                f"{metric}: Morris with {r} trajectories is too few (μ* intervals wider than μ* "
                f"for {', '.join(swamped['parameter'])}); expected design.samples: {needed} or "
                "more"
            )
    return lines


def replication_warnings(spec: SweepFile, points: pd.DataFrame) -> list[str]:
    """Return one line per metric whose intervals are wider than the means at most points."""
    lines = []
    for metric in spec.metrics:
        half, mean = points[f"{metric}_ci95"], points[metric].abs()
        known = half.notna() & mean.notna()
        if not known.any():
            continue
        wider = int((half[known] > mean[known]).sum())
        if wider * 2 > int(known.sum()):
            lines.append(
                f"{metric}: with {spec.replications} replications per point, the 95% interval "
                f"is wider than the mean at {wider} of {int(known.sum())} points; expected "
                "more replications (replications: in the sweep file; `spiral compare "
                "--replications auto` finds how many a point needs)"
            )
    return lines


def guard_rails(spec: SweepFile, indices: pd.DataFrame, points: pd.DataFrame) -> list[str]:
    """Return every warning that the sample or the replications are too small to trust."""
    kind = spec.design.kind
    lines = []
    if kind == "sobol" and len(indices):
        lines += sobol_warnings(spec, indices)
    if kind == "morris" and len(indices):
        lines += morris_warnings(spec, indices)
    return lines + replication_warnings(spec, points)
