"""What a sweep found: means per design point and which parameters drive each metric.

Sensitivity follows the design: Sobol first- and total-order indices (SALib, Saltelli
estimator) for a sobol design, Morris μ* and σ for a morris design, and standardized
regression coefficients (SRC: the least-squares slope in standard deviations; SRC² is
the share of variance a parameter explains when the response is near linear) for a
grid or a Latin hypercube. Replications are averaged per point first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from spiral.sweeps.designs import salib_problem, unit_points
from spiral.sweeps.store import MANIFEST, load_rows
from spiral.sweeps.sweep_file import SweepFile


class NoRuns(ValueError):
    """A sweep folder with no saved run."""


RANKED_BY = {"sobol": "ST", "morris": "mu_star", "grid": "SRC", "lhs": "SRC"}
"""The index a tornado chart ranks parameters by, per design."""


@dataclass
class SweepReport:
    """A sweep's results summarised: per-point means and sensitivity indices per metric."""

    manifest: dict
    runs: pd.DataFrame
    points: pd.DataFrame
    indices: pd.DataFrame  # metric, parameter, index, value, conf
    notes: list[str]
    warnings: list[str] = field(default_factory=list)  # the sample is too small to trust

    @property
    def spec(self) -> SweepFile:
        """Return the sweep as validated when it ran."""
        return SweepFile.model_validate(self.manifest["spec"])

    @property
    def currency(self) -> str:
        """Return the base scenario's currency ('' for a folder swept before it was kept)."""
        return self.manifest.get("currency", "")

    def named_points(self) -> pd.DataFrame:
        """Return the points with each parameter written with a unit named with it."""
        units = self.manifest.get("units", {})
        return self.points.rename(
            columns={name: f"{name}_{unit.replace(' ', '_')}" for name, unit in units.items()}
        )


def point_means(runs: pd.DataFrame, parameters: list[str], metrics: list[str]) -> pd.DataFrame:
    """Return one row per design point: parameter values, mean and 95% half-width per metric."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for point, group in runs.groupby("point", sort=True):
        good = ok[ok["point"] == point]
        row = {"point": int(point), **{p: group[p].iloc[0] for p in parameters}}
        row["runs_ok"] = len(good)
        row["runs_failed"] = len(group) - len(good)
        for metric in metrics:
            values = good[metric].to_numpy(float)
            row[metric] = values.mean() if len(values) else np.nan
            n = len(values)
            half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            row[f"{metric}_ci95"] = half
        rows.append(row)
    return pd.DataFrame(rows)


def label_order(spec: SweepFile, name: str) -> list[str]:
    """Return a list parameter's values as text, in the order the sweep file lists them."""
    values = spec.parameters[name]
    return [str(v) for v in values] if isinstance(values, list) else []


def _src(
    points: pd.DataFrame, parameters: list[str], metric: str, orders: dict | None = None
) -> list[dict]:
    """Return standardized regression coefficients of a metric on the parameters."""
    columns = []
    for p in parameters:
        col = points[p]
        if not pd.api.types.is_numeric_dtype(col):
            order = (orders or {}).get(p) or sorted(set(col.astype(str)))
            col = col.astype(str).map({v: i for i, v in enumerate(order)})  # the file's order
        columns.append(col.to_numpy(float))
    x = np.column_stack(columns)
    y = points[metric].to_numpy(float)
    sx, sy = x.std(axis=0), y.std()
    if sy == 0:
        return [{"parameter": p, "index": "SRC", "value": 0.0, "conf": np.nan} for p in parameters]
    z = np.where(sx > 0, (x - x.mean(axis=0)) / np.where(sx > 0, sx, 1), 0.0)
    coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(y)), z]), (y - y.mean()) / sy)
    return [
        {"parameter": p, "index": "SRC", "value": float(c), "conf": np.nan}
        for p, c in zip(parameters, coef[1:], strict=True)
    ]


def indices(spec: SweepFile, points: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Return sensitivity indices of every kept metric, and notes on what was left out."""
    names = list(spec.parameters)
    kind = spec.design.kind
    rows, notes = [], []
    for metric in spec.metrics:
        y = points[metric].to_numpy(float)
        if kind in ("sobol", "morris") and not np.isfinite(y).all():
            notes.append(
                f"{metric}: {kind} indices need every design point; "
                f"{int((~np.isfinite(y)).sum())} have no successful run"
            )
            continue
        if kind == "sobol":
            from SALib.analyze import sobol

            found = sobol.analyze(salib_problem(names), y, calc_second_order=False, seed=spec.seed)
            for i, name in enumerate(names):
                for index in ("S1", "ST"):
                    rows.append(
                        {
                            "metric": metric,
                            "parameter": name,
                            "index": index,
                            "value": float(found[index][i]),
                            "conf": float(found[f"{index}_conf"][i]),
                        }
                    )
        elif kind == "morris":
            from SALib.analyze import morris

            x = unit_points(spec.design, names, spec.seed)
            found = morris.analyze(
                salib_problem(names), x, y, num_levels=spec.design.levels, seed=spec.seed
            )
            for i, name in enumerate(names):
                rows.append(
                    {
                        "metric": metric,
                        "parameter": name,
                        "index": "mu_star",
                        "value": float(found["mu_star"][i]),
                        "conf": float(found["mu_star_conf"][i]),
                    }
                )
                rows.append(
                    {
                        "metric": metric,
                        "parameter": name,
                        "index": "sigma",
                        "value": float(found["sigma"][i]),
                        "conf": np.nan,
                    }
                )
        else:
            usable = points[np.isfinite(y)]
            if len(usable) < 2:
                notes.append(f"{metric}: fewer than two design points have a successful run")
                continue
            orders = {n: label_order(spec, n) for n in names}
            rows.extend({"metric": metric, **r} for r in _src(usable, names, metric, orders))
    columns = ["metric", "parameter", "index", "value", "conf"]
    return pd.DataFrame(rows, columns=columns), notes


def ranking(report: SweepReport, metric: str) -> pd.Series:
    """Return parameters ranked (largest first) by the design's main index for a metric."""
    by = RANKED_BY[report.spec.design.kind]
    found = report.indices
    found = found[(found["metric"] == metric) & (found["index"] == by)]
    return found.set_index("parameter")["value"].abs().sort_values(ascending=False)


def sweep_report(folder: Path) -> SweepReport:
    """Read a sweep folder and summarise it."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        manifest["spec"], manifest["runs"]
    except (OSError, ValueError, KeyError):
        raise NoRuns(f"{folder / MANIFEST}: file: unreadable; expected a sweep manifest") from None
    runs = load_rows(folder)
    spec = SweepFile.model_validate(manifest["spec"])
    if not len(runs):
        raise NoRuns(f"{folder}: results: no runs saved yet; expected a sweep that has run")
    points = point_means(runs, list(spec.parameters), spec.metrics)
    notes = []
    missing = manifest["runs"] - len(runs)
    if missing:
        notes.append(f"{missing} of {manifest['runs']} runs have no row yet (sweep unfinished)")
    if len(points) < manifest["runs"] // spec.replications:
        table, more = pd.DataFrame(columns=["metric", "parameter", "index", "value", "conf"]), []
        notes.append("indices need every design point; finish the sweep first")
    else:
        table, more = indices(spec, points)
    from spiral.sweeps.guard_rails import guard_rails

    return SweepReport(
        manifest, runs, points, table, notes + more, guard_rails(spec, table, points)
    )


def default_heatmap(report: SweepReport) -> tuple[str, str] | None:
    """Return the two parameters that drive the first metric most (None with fewer than two)."""
    names = list(report.spec.parameters)
    if len(names) < 2 or not len(report.points):
        return None
    metric = report.spec.metrics[0]
    ranked = list(ranking(report, metric).index) if len(report.indices) else []
    ordered = ranked + [n for n in names if n not in ranked]
    return ordered[0], ordered[1]


def heatmap_table(report: SweepReport, x: str, y: str, metric: str, bins: int = 6) -> pd.DataFrame:
    """Return the metric's mean over the points in each cell of two parameters (y rows, x columns).

    Grid designs use their own values; sampled designs cut each axis into ``bins``
    equal-width intervals (labelled by their midpoints).
    """
    points = report.points
    for name in (x, y):
        if name not in report.spec.parameters:
            known = ", ".join(report.spec.parameters)
            raise ValueError(f"{name}: not a swept parameter; expected one of {known}")
    frame = points[[x, y, metric]].copy()
    for name in (x, y):
        order = label_order(report.spec, name)
        if order and not pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = pd.Categorical(frame[name].astype(str), categories=order, ordered=True)
    if report.spec.design.kind != "grid":
        for name in (x, y):
            if pd.api.types.is_numeric_dtype(frame[name]) and frame[name].nunique() > bins:
                cut = pd.cut(frame[name], bins)
                frame[name] = cut.map(lambda c: round((c.left + c.right) / 2, 6)).astype(float)
    table = frame.pivot_table(index=y, columns=x, values=metric, aggfunc="mean", observed=False)
    return table.sort_index(ascending=False)
