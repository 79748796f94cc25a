"""Scenario loading: YAML file or built-in name -> validated, structurally checked Scenario."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from spiral.distributions import DISTRIBUTION_KINDS
from spiral.errors import ScenarioError, problem
from spiral.graph import check_scenario
from spiral.interventions import what_if_problems
from spiral.scenario import Scenario
from spiral.units import format_duration
from spiral.what_if import CHANGE_KINDS

DEFAULT_SCENARIO = "online_retail"
TAGS = {"dist": DISTRIBUTION_KINDS, "change": CHANGE_KINDS}  # discriminated unions' tags


def builtin_scenarios() -> dict[str, Path]:
    """Return the built-in scenarios by name."""
    try:
        root = resources.files("spiral.scenarios")
    except ModuleNotFoundError:  # running from a source checkout that shadows the install
        root = Path(__file__).resolve().parent.parent / "scenarios"
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def builtin_description(path: Path) -> str:
    """Return the first line of a scenario file's description without validating it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lines = (
        str(data.get("description") or "").strip().splitlines() if isinstance(data, dict) else []
    )
    return lines[0] if lines else ""


def resolve_source(source: str | Path) -> Path:
    """Return the file for a path or a built-in scenario name."""
    path = Path(source)
    if path.exists():
        return path
    builtins = builtin_scenarios()
    if str(source) in builtins:
        return builtins[str(source)]
    raise problem(
        str(source),
        "file",
        f"no such file or built-in scenario (built-ins: {', '.join(builtins)})",
    )


def _location(loc: tuple[int | str, ...], data: object, missing: bool = False) -> str:
    """Dotted field path of an error, keeping only parts that exist in the input.

    Pydantic adds union members ('int', 'gamma', 'function-after[...]') to the path;
    walking the input data tells those apart from user names spelled the same way.
    """
    parts: list[str] = []
    node = data
    for position, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif not (missing and position == len(loc) - 1 and isinstance(node, dict)):
            continue  # a part pydantic inserted, not one the user wrote
        parts.append(f"[{part}]" if isinstance(part, int) else str(part))
    return ".".join(parts).replace(".[", "[") or "(top level)"


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        if error["loc"] and error["loc"][-1] == "dist":
            return f"missing; expected dist to be one of {', '.join(DISTRIBUTION_KINDS)}"
        return "missing; expected this field (see `spiral schema`)"
    if kind == "extra_forbidden":
        return "unknown field; expected one of the documented fields (see `spiral schema`)"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = error["ctx"]["discriminator"].strip("'")
        tags = ", ".join(TAGS.get(key, []))
        if kind == "union_tag_not_found":
            return f"missing {key}; expected {key} to be one of {tags}"
        quoted = error["ctx"]["expected_tags"]
        return f"expected {key} to be one of {quoted}, got {error['ctx']['tag']!r}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message[0].lower() + message[1:] if message else message


def validation_problems(error: ValidationError, data: object = None) -> list[tuple[str, str]]:
    """Turn a pydantic ValidationError into (field, what was expected) pairs, one per field."""
    merged: dict[str, list[str]] = {}
    for e in error.errors():
        field = _location(e["loc"], data, missing=e["type"] == "missing")
        messages = merged.setdefault(field, [])
        text = _message(e)
        if text not in messages:
            messages.append(text)
    return [(field, "; or ".join(messages)) for field, messages in merged.items()]


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as plain data (e.g. parsed YAML) and check its structure."""
    if not isinstance(data, dict):
        raise problem(source, "(top level)", "expected a mapping of scenario fields")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(source, validation_problems(error, data)) from None
    problems = check_scenario(scenario) or what_if_problems(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """Build a mapping, failing on a repeated key with its line."""
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice; expected each key once",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> object:
    """Return a YAML file's data; an unreadable file or bad YAML is one line naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise problem(str(path), "file", f"cannot be read ({error})") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        if isinstance(error, yaml.constructor.ConstructorError) and "twice" in reason:
            raise problem(str(path), where, reason) from None
        raise problem(
            str(path), where, f"invalid YAML ({reason}); expected a YAML mapping"
        ) from None


def load_scenario(source: str | Path) -> Scenario:
    """Load, validate and check a scenario from a YAML file or a built-in name."""
    path = resolve_source(source)
    return parse_scenario(read_yaml(path), str(path))


_ROUTING_FIELDS = {
    "steps": ("next", "on_failure"),
    "contacts": ("resolved", "unresolved"),
    "outcomes": ("next",),
}


def _ordered(routing: dict[str, float] | None) -> list | None:
    return None if routing is None else [[target, p] for target, p in routing.items()]


def scenario_hash(scenario: Scenario) -> str:
    """Return a stable SHA-256 of the validated scenario's content.

    Mappings are hashed with sorted keys (file layout does not matter) except routing,
    whose order is content: the engine picks a route by walking it in order.
    """
    data = scenario.model_dump(mode="json")
    data["start"] = _ordered(scenario.start)
    for section, fields in _ROUTING_FIELDS.items():
        for name, node in getattr(scenario, section).items():
            for field in fields:
                data[section][name][field] = _ordered(getattr(node, field))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def with_length(
    scenario: Scenario, horizon: float | None = None, customers: int | None = None
) -> Scenario:
    """Return a copy run for a horizon (minutes) or a customer count instead of the file's."""
    if horizon is not None and customers is not None:
        raise ValueError("give either horizon or customers, not both")
    if horizon is not None:
        if horizon <= 0:
            raise ValueError(f"horizon must be positive, got {horizon}")
        if horizon <= scenario.warmup:
            raise ValueError(
                f"horizon must be longer than the warm-up ({format_duration(scenario.warmup)}), "
                f"got {format_duration(horizon)}"
            )
        return scenario.model_copy(update={"horizon": horizon, "customers": None})
    if customers is not None:
        if customers <= 0:
            raise ValueError(f"customers must be positive, got {customers}")
        return scenario.model_copy(update={"customers": customers, "horizon": None})
    return scenario
