"""The studio's knobs: read from a scenario's data, written back into it, validated.

The knobs work on the scenario file's data (not on the validated model), so that
"save these settings" writes the file as loaded with only the moved knobs changed, and
the saved file passes the same loader and checks as ``spiral validate``.
"""

from __future__ import annotations

import copy
import math
import shlex
from dataclasses import dataclass, field

import yaml

from spiral.model.loading import parse_scenario
from spiral.model.scenario import Scenario

MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True)
class Knobs:
    """The values the studio's sliders set (rate in arrivals per day)."""

    failure: dict[str, float]
    staff: dict[str, int]
    baton: float
    arrival_rate: float
    amplification: float
    compounding: float


def knobs_of(scenario: Scenario) -> Knobs:
    """Return a validated scenario's knob values (staff only for silos with a fixed count)."""
    return Knobs(
        failure={name: step.failure for name, step in scenario.steps.items()},
        staff={  # a roster or dated changes decide who is on duty: no single head count
            name: silo.staff
            for name, silo in scenario.silos.items()
            if silo.staff != "unlimited" and silo.roster is None and not silo.changes
        },
        baton=scenario.experience.baton,
        arrival_rate=scenario.arrivals.rate * MINUTES_PER_DAY,
        amplification=scenario.experience.amplification,
        compounding=scenario.experience.compounding,
    )


@dataclass(frozen=True)
class Setting:
    """A scenario's data with knobs applied: the validated scenario and what was changed."""

    data: dict
    scenario: Scenario
    changed: list[str] = field(default_factory=list)

    def yaml_text(self, origin: str) -> str:
        """Return the scenario file to save, headed by where it came from and what changed."""
        lines = [f"# saved by `spiral studio` from {origin}"]
        if self.changed:
            lines.append("# changed: " + ", ".join(self.changed))
        body = yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)
        return "\n".join(lines) + "\n" + body


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def apply_knobs(data: dict, knobs: Knobs, source: str) -> Setting:
    """Return the scenario data with the knobs that differ from it written in, validated.

    The baton sets the warm-handoff share everywhere: ``experience.baton`` and every silo
    that sets its own. Raises ``ScenarioError`` (one line per problem) if the result is
    invalid.
    """
    base = knobs_of(parse_scenario(data, source))
    out = copy.deepcopy(data)
    changed: list[str] = []
    steps = out.get("steps") or {}
    for name, value in knobs.failure.items():
        if name in steps and not _close(value, base.failure.get(name, math.nan)):
            steps[name]["failure"] = round(float(value), 6)
            changed.append(f"steps.{name}.failure")
    silos = out.get("silos") or {}
    for name, value in knobs.staff.items():
        if name in silos and value != base.staff.get(name):
            silos[name]["staff"] = int(value)
            changed.append(f"silos.{name}.staff")
    experience = out.setdefault("experience", {}) or {}
    out["experience"] = experience
    if not _close(knobs.baton, base.baton):
        experience["baton"] = round(float(knobs.baton), 6)
        changed.append("experience.baton")
        for name, silo in silos.items():
            if isinstance(silo, dict) and "baton" in silo:
                silo["baton"] = round(float(knobs.baton), 6)
                changed.append(f"silos.{name}.baton")
    for name in ("amplification", "compounding"):
        value = getattr(knobs, name)
        if not _close(value, getattr(base, name)):
            experience[name] = round(float(value), 6)
            changed.append(f"experience.{name}")
    if not experience:
        del out["experience"]
    if not _close(knobs.arrival_rate, base.arrival_rate):
        out["arrivals"]["rate"] = f"{knobs.arrival_rate:.6g} per day"
        changed.append("arrivals.rate")
    return Setting(out, parse_scenario(out, source), changed)


def command_lines(
    file_name: str,
    seed: int,
    replications: int = 1,
    what_if: str | None = None,
    original: str | None = None,
) -> list[str]:
    """Return the CLI lines that reproduce a view from a saved settings file.

    The headline view is ``spiral run`` once per seed; a what-if beside the baseline is
    ``spiral compare`` over the same seeds (common random numbers); the settings beside
    the scenario as loaded (``original``) are two runs per seed.
    """
    name = shlex.quote(file_name)
    if what_if:
        return [
            f"spiral compare {name} --what-if {shlex.quote(what_if)} "
            f"--replications {max(replications, 2)} --seed {seed}"
        ]
    files = [name] if original is None else [name, shlex.quote(original)]
    if replications == 1:
        return [f"spiral run {f} --seed {seed}" for f in files]
    last = seed + replications - 1
    return [f"for s in $(seq {seed} {last}); do spiral run {f} --seed $s; done" for f in files]
