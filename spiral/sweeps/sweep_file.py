"""Sweep files: a base scenario, the parameters to vary, a design, replications and metrics.

A parameter is a dotted path into the scenario file (``steps.deliver.failure``,
``arrivals.rate``, ``silos.support.staff``) or ``what_if``; its values are a range
(``{low: 0.02, high: 0.2}``, units allowed: ``{low: 400 per day, high: 600 per day}``)
or a list. Every extreme value is applied to the scenario and validated when the sweep
file is read, so a sweep never starts with a value the scenario refuses.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from spiral.analysis.compare import KEY_METRICS, MORE_METRICS
from spiral.model.errors import ScenarioError, problem
from spiral.model.fields import Model, Name, Whole
from spiral.model.loading import (
    parse_scenario,
    read_yaml,
    resolve_source,
    scenario_hash,
    validation_problems,
)
from spiral.model.scenario import Scenario
from spiral.model.units import parse_duration
from spiral.model.what_if_arms import BASELINE, parse_arm

WHAT_IF = "what_if"
"""The parameter that picks which of the scenario's what-ifs a run switches on."""

METRICS: tuple[str, ...] = tuple(m for m in KEY_METRICS if m != "roi") + MORE_METRICS
"""Metrics a sweep can keep: one number per run (``spiral compare``'s, without ROI)."""

DESIGNS = ("grid", "lhs", "sobol", "morris")

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def split_quantity(value: float | str) -> tuple[float, str]:
    """Split ``'400 per day'`` into (400.0, 'per day'); a number has no unit."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), ""
    match = _QUANTITY.match(str(value))
    if not match:
        raise ValueError(f"expected a number, with a unit if the field has one, got {value!r}")
    return float(match.group(1)), match.group(2)


class Range(Model):
    """A range of values, both ends included; units as in the scenario file.

    ``integer: true`` makes a range of whole numbers, each equally likely; it is set
    when the sweep file is read if the field refuses a fraction (staff, say).
    """

    low: int | float | str
    high: int | float | str
    integer: bool | None = Field(
        default=None, description="Whole numbers only (default: when the field needs them)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        (low, unit), (high, unit_high) = split_quantity(self.low), split_quantity(self.high)
        if unit != unit_high:
            raise ValueError(f"expected low and high in one unit, got {unit!r} and {unit_high!r}")
        if not low < high:
            raise ValueError(f"expected low < high, got {self.low!r} and {self.high!r}")
        return self

    def at(self, u: float) -> int | float | str:
        """Return the value a fraction ``u`` of the way from low to high, in the file's unit."""
        (low, unit), (high, _) = split_quantity(self.low), split_quantity(self.high)
        if self.integer:  # equal slices of [0, 1] for low, low + 1, ..., high
            return int(min(high, low + math.floor(u * (high - low + 1))))  # ends are whole
        value = low + u * (high - low)
        return f"{value:.12g} {unit}" if unit else value


class Design(Model):
    """How the parameter space is sampled."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = Field(
        description="grid: every combination; lhs: Latin hypercube; sobol: Saltelli sample "
        "for Sobol indices; morris: elementary-effect trajectories."
    )
    samples: Whole = Field(
        default=16,
        ge=1,
        le=1_000_000,
        description="lhs: points; sobol: base samples N (a power of 2; points N·(d+2)); "
        "morris: trajectories (points N·(d+1)); grid: unused.",
    )
    levels: Whole = Field(
        default=4, ge=2, le=1000, description="grid: values per range; morris: grid levels."
    )

    @model_validator(mode="after")
    def _power_of_two(self) -> Design:
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol: expected samples a power of 2, got {self.samples}")
        return self


class SweepFile(Model):
    """A sweep: what to vary, how to sample it, how often to run each point, what to keep."""

    name: Name | None = None
    scenario: str = Field(description="Built-in scenario name or path, relative to this file.")
    horizon: str | None = Field(default=None, description="Override the scenario's horizon.")
    customers: Whole | None = Field(default=None, ge=1, description="Or run this many customers.")
    engine: Literal["auto", "des", "vectorised"] = "auto"
    design: Design
    parameters: dict[str, Range | list[int | float | str]] = Field(min_length=1)
    replications: Whole = Field(
        default=1, ge=1, le=10_000, description="Runs per point, a whole number from 1."
    )
    seed: Whole = Field(default=1, ge=0, le=2**63 - 1, description="Root seed (0 to 2^63 - 1).")
    metrics: list[str] = Field(default_factory=lambda: list(METRICS[:7]), min_length=1)

    @field_validator("scenario", mode="before")
    @classmethod
    def _scenario_text(cls, value: object) -> object:
        if isinstance(value, bool | int | float):
            text = str(value).lower() if isinstance(value, bool) else repr(value)
            kind = "a boolean" if isinstance(value, bool) else "a number"
            raise ValueError(
                f"YAML read {text} as {kind}; expected a scenario file or built-in name: "
                f"quote it ('{text}')"
            )
        if isinstance(value, str) and not value.strip():
            raise ValueError("expected a scenario file or built-in name, got ''")
        return value

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r}; expected one of {', '.join(METRICS)}")
        return value

    @field_validator("parameters")
    @classmethod
    def _non_empty_lists(cls, value: dict) -> dict:
        for path, values in value.items():
            if isinstance(values, list) and not values:
                raise ValueError(f"{path}: expected at least one value")
        return value

    @model_validator(mode="after")
    def _one_length(self) -> SweepFile:
        if self.horizon is not None and self.customers is not None:
            raise ValueError("expected horizon or customers, not both")
        if self.horizon is not None:
            parse_duration(self.horizon)
        return self


@dataclass(frozen=True)
class Sweep:
    """A validated sweep file with its base scenario, as plain data for the workers."""

    path: str
    spec: SweepFile
    base: dict  # the scenario file's data, overrides applied
    base_source: str
    scenario: Scenario  # the base scenario, validated
    engine: str = "des"  # the one engine every run uses, chosen when the file is read

    @property
    def name(self) -> str:
        """Return the sweep's name (the file's stem unless it names itself)."""
        return self.spec.name or Path(self.path).stem

    @property
    def parameters(self) -> list[str]:
        """Return the varied parameters in file order."""
        return list(self.spec.parameters)

    def digest(self) -> str:
        """Return a hash of everything that decides the results: the sweep and its scenario."""
        payload = json.dumps(
            {"sweep": self.spec.model_dump(mode="json"), "scenario": scenario_hash(self.scenario)},
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def scenario_with(self, values: dict[str, object]) -> tuple[Scenario, str | None]:
        """Return the scenario with these parameter values and the what-if they pick."""
        return scenario_with(self.base, self.base_source, values)


def scenario_with(
    base: dict, source: str, values: dict[str, object]
) -> tuple[Scenario, str | None]:
    """Return the scenario data ``base`` with parameter values set, validated, and the what-if."""
    data = copy.deepcopy(base)
    what_if = None
    for path, value in values.items():
        if path == WHAT_IF:
            what_if = None if value == BASELINE else str(value)
        else:
            set_path(data, path, value)
    return parse_scenario(data, source), what_if


def set_path(data: dict, path: str, value: object) -> None:
    """Set a dotted path in scenario data, creating mappings on the way (ValueError if not)."""
    parts = path.split(".")
    node = data
    for i, key in enumerate(parts[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            where = ".".join(parts[: i + 1])
            raise ValueError(
                f"{where} is {child!r} in the scenario, not a mapping; write it in full "
                "(e.g. {dist: ..., mean: ...}) to vary a field inside it"
            )
        node = child
    node[parts[-1]] = value


def _extremes(values: Range | list) -> list:
    return [values.low, values.high] if isinstance(values, Range) else list(values)


RESERVED = {"seed", "name", "description", "run", "point", "replication", "status", "error"}
"""Names a parameter cannot take: they are set per run, change nothing, or name a column."""


def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and check a sweep file; every problem is one line naming the field."""
    source = str(path)
    data = read_yaml(Path(path))
    if not isinstance(data, dict):
        raise problem(source, "(top level)", "expected a mapping of sweep fields")
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(source, validation_problems(error, data)) from None
    base, scenario_path = _base_scenario(source, spec.scenario)
    if spec.horizon is not None:
        base["horizon"] = spec.horizon
        base.pop("customers", None)
    if spec.customers is not None:
        base["customers"] = spec.customers
        base.pop("horizon", None)
    length = "horizon" if spec.horizon else "customers" if spec.customers else "scenario"
    try:
        scenario = parse_scenario(base, str(scenario_path))
    except ScenarioError as error:
        raise problem(source, length, "; ".join(error.lines())) from None
    _check_customers(source, spec, scenario)
    sweep = Sweep(source, spec, base, str(scenario_path), scenario)
    cases = [("scenario", None, scenario)]  # every value checked, with its scenario
    for name, values in spec.parameters.items():
        cases += _check_parameter(sweep, name, values)
    sweep = _with_integer_ranges(sweep)
    return replace(sweep, engine=_engine(sweep, cases))


def _base_scenario(source: str, scenario: str) -> tuple[dict, Path]:
    """Return the data of the scenario a sweep names and its file; problems name the sweep."""
    try:
        scenario_path = resolve_source(_relative(scenario, Path(source).parent))
    except ScenarioError as error:
        raise problem(source, "scenario", error.problems[0][1]) from None
    if scenario_path.is_dir():
        raise problem(
            source,
            "scenario",
            f"{scenario_path} is a folder; expected a scenario file or a built-in scenario name",
        )
    try:
        base = read_yaml(scenario_path)
    except ScenarioError as error:
        reason = "; ".join(f"{where}: {what}" for where, what in error.problems)
        raise problem(source, "scenario", f"{scenario_path}: {reason}") from None
    if not isinstance(base, dict):
        raise problem(source, "scenario", f"{scenario_path}: expected a mapping of scenario fields")
    return base, scenario_path


def _check_parameter(sweep: Sweep, name: str, values: Range | list) -> list[tuple]:
    """Refuse a parameter that cannot act, or any of whose values the scenario refuses.

    Returns (name, value, scenario) for each list value and range end (not for what_if).
    """
    source, scenario, spec = sweep.path, sweep.scenario, sweep.spec
    where = f"parameters.{name}"
    parts = name.split(".")
    if name in RESERVED or name in METRICS:
        raise problem(
            source,
            where,
            "not a parameter: seeds come from the root seed and the replication, and this "
            "name is set per run or changes no result; expected a scenario field or what_if",
        )
    named = getattr(scenario, parts[0], None) if len(parts) > 2 else None
    if isinstance(named, dict) and parts[1] not in named:
        raise problem(
            source,
            where,
            f"no {parts[0]} entry {parts[1]!r} in the scenario; expected one of {', '.join(named)}",
        )
    if parts[0] == "what_ifs":
        picked = [str(v) for v in spec.parameters.get(WHAT_IF, [])]
        if not any(parts[1] in v.replace("+", " ").replace("@", " ").split() for v in picked):
            raise problem(
                source,
                where,
                f"changes the what-if {parts[1]!r}, which no run switches on; expected a "
                f"what_if parameter listing it",
            )
    checked = []
    for value in _extremes(values):
        try:
            if name == WHAT_IF:
                if value != BASELINE:
                    parse_arm(str(value), scenario)
            else:
                checked.append((name, value, sweep.scenario_with({name: value})[0]))
        except ScenarioError as error:
            reason = "; ".join(f"{w}: {what}" for w, what in error.problems)
            raise problem(source, where, f"the value {value!r} gives {reason}") from None
        except ValueError as error:
            raise problem(source, where, f"the value {value!r}: {error}") from None
    return checked


def _check_customers(source: str, spec: SweepFile, scenario: Scenario) -> None:
    """Refuse a customer count that arrives within the warm-up: nothing would be measured."""
    if spec.customers is None or scenario.warmup <= 0:
        return
    schedule = scenario.arrivals.schedule
    mean = sum(schedule.multipliers) / len(schedule.multipliers) if schedule else 1.0
    minutes = spec.customers / (scenario.arrivals.rate * mean)
    if minutes <= scenario.warmup:
        raise problem(
            source,
            "customers",
            f"{spec.customers} customers arrive in about {minutes / 1440:.1f} days, within the "
            f"scenario's warm-up of {scenario.warmup / 1440:g} days; expected more customers "
            "or a horizon",
        )


def _engine(sweep: Sweep, cases: list[tuple]) -> str:
    """Return the one engine for every run: vectorised only where every value allows it."""
    from spiral.engines.dispatch import choose_engine

    spec = sweep.spec
    if spec.engine == "des":
        return "des"
    what_ifs = any(v != BASELINE for v in spec.parameters.get(WHAT_IF, []))
    for name, value, scenario in cases:
        try:
            choose_engine(scenario, "vectorised", False, what_ifs)
        except ValueError as error:
            if spec.engine == "auto":
                return "des"
            at = "" if value is None else f" (at parameters.{name} = {value!r})"
            raise problem(sweep.path, "engine", f"{error}{at}; expected auto or des") from None
    return "vectorised"


def _with_integer_ranges(sweep: Sweep) -> Sweep:
    """Mark a range with whole-number ends integer when its field refuses a fraction."""
    parameters = dict(sweep.spec.parameters)
    for name, values in parameters.items():
        ends = (values.low, values.high) if isinstance(values, Range) else ()
        whole = bool(ends) and all(
            isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()
            for v in ends
        )
        if not whole or values.integer:
            continue
        try:
            sweep.scenario_with({name: float(values.low) + 0.5})
            integer = False
        except (ScenarioError, ValueError):
            integer = True
        if values.integer is False and integer:
            raise problem(
                sweep.path,
                f"parameters.{name}.integer",
                "the field takes whole numbers only; expected integer: true (or no integer)",
            )
        parameters[name] = values.model_copy(update={"integer": integer})
    spec = sweep.spec.model_copy(update={"parameters": parameters})
    return Sweep(sweep.path, spec, sweep.base, sweep.base_source, sweep.scenario, sweep.engine)


def _relative(scenario: str, folder: Path) -> str:
    """Return a scenario path relative to the sweep file's folder; a built-in name as it is."""
    candidate = folder / scenario
    return str(candidate) if candidate.exists() else scenario
