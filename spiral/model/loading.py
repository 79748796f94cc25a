"""Scenario loading: YAML file or built-in name -> validated, structurally checked Scenario."""

from __future__ import annotations

import hashlib
import json
import math
import re
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from spiral.model.distributions import DISTRIBUTION_KINDS
from spiral.model.errors import ScenarioError, problem
from spiral.model.graph import check_scenario
from spiral.model.scenario import Scenario
from spiral.model.units import format_duration
from spiral.model.what_if import CHANGE_KINDS
from spiral.model.what_if_arms import what_if_problems
from spiral.scenarios import DEFAULT_SCENARIO  # noqa: F401 - re-exported

TAGS = {"dist": DISTRIBUTION_KINDS, "change": CHANGE_KINDS}  # discriminated unions' tags


def builtin_scenarios() -> dict[str, Path]:
    """Return the built-in scenarios by name."""
    root = resources.files("spiral.scenarios")
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
        parts.append(f"[{part}]" if isinstance(part, int) else str(part) or "''")
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
    if message[:2].isupper():  # an acronym (YAML) keeps its capitals
        return message
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


MAX_FILE_BYTES = 2 * 2**20
"""The largest scenario or sweep file read: 2 MB (the built-ins are a few kB)."""

MAX_NESTING = 50
"""The deepest nesting of mappings and lists a file may have (the schema needs about 8)."""

MAX_VALUES = 1_000_000
"""The most values a file may hold once its aliases are expanded."""

TEXT_PER_VALUE = 100
"""Text counts as one value per 100 characters (an alias can repeat a long string)."""

_BOOL = re.compile(r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$")
_MERGE = "tag:yaml.org,2002:merge"


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that a scenario or sweep file may not use; ``problem`` is the whole reason."""


class _Loader(yaml.SafeLoader):
    """A safe loader for scenario and sweep files.

    Keys are names: a scalar key is read as its source text (``yes``, ``404`` and ``1.5``
    stay names) and a list or mapping as a key is refused. A key written twice in one
    mapping is refused (YAML would keep the last); merge keys (``<<: *base``) are read, and
    a key written next to them overrides the merged one. Booleans are YAML 1.2's: only
    true and false, so ``yes``, ``no``, ``on`` and ``off`` stay text. Nesting deeper than
    MAX_NESTING is refused while composing, before Python's recursion limit is near.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        """Compose a node, refusing one nested deeper than MAX_NESTING."""
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _Refused(
                    problem=f"nested deeper than {MAX_NESTING} levels; expected at most "
                    f"{MAX_NESTING} levels of mappings and lists",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        """Build a value; a value YAML cannot build (``0x_``, ``2026-02-30``) names its line."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as error:
            if isinstance(error, yaml.YAMLError):
                raise
            shown = node.value if isinstance(node.value, str) else node.tag
            raise _Refused(
                problem=f"cannot read {str(shown)[:40]!r} ({error}); expected a value YAML "
                "can build (quote text)",
                problem_mark=node.start_mark,
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """Build a mapping of names, merging ``<<`` keys and refusing a repeated key."""
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)  # raises the usual error
        seen: set[str] = set()
        for key_node, _ in node.value:
            _check_key(key_node)
            if key_node.tag == _MERGE:
                continue
            if key_node.value in seen:
                raise _Refused(
                    problem=f"key {key_node.value!r} appears twice; expected each key once",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key_node.value)
        self.flatten_mapping(node)  # merged pairs first, so a key written here wins
        mapping: dict[str, object] = {}
        for key_node, value_node in node.value:
            _check_key(key_node)  # a merged mapping's keys too
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


def _check_key(key_node: yaml.Node) -> None:
    if not isinstance(key_node, yaml.ScalarNode):
        kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
        raise _Refused(
            problem=f"a key must be a name, got a {kind}", problem_mark=key_node.start_mark
        )


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def _nesting(data: object) -> tuple[float, int]:
    """Return how deep lists and mappings nest in data and how many values it holds.

    Aliases make shared (even self-containing) values: each is walked once, a cycle is
    infinitely deep, and the count is of values as if every alias were written out.
    """
    depth: dict[int, float] = {}
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[object, bool]] = [(data, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = (
            [
                c
                for c in (node.values() if isinstance(node, dict) else node)
                if isinstance(c, dict | list)
            ]
            if isinstance(node, dict | list)
            else []
        )
        if finished:
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            values = node.values() if isinstance(node, dict) else node
            text = sum(len(v) for v in values if isinstance(v, str)) // TEXT_PER_VALUE
            size[key] = len(node) + text + sum(size[id(c)] for c in children)
            size[key] = min(size[key], MAX_VALUES + 1)
            on_path.discard(key)
        elif isinstance(node, dict | list) and key not in depth:
            if key in on_path:
                return math.inf, MAX_VALUES + 1
            on_path.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children)
    return depth.get(id(data), 0), size.get(id(data), 1)


def _read_text(path: Path) -> str:
    """Return a file's text, refusing a folder, a device, a huge file or bad UTF-8."""
    try:
        if path.is_dir():
            raise problem(str(path), "file", "is a folder; expected a YAML file")
        if path.exists() and not path.is_file():
            raise problem(str(path), "file", "is not a regular file; expected a YAML file")
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise problem(str(path), "file", f"cannot be read ({error})") from None
    size = path.stat().st_size if len(raw) > MAX_FILE_BYTES else len(raw)
    return _decoded(raw, str(path), size)


def _decoded(raw: bytes, source: str, size: int) -> str:
    """Return bytes of a scenario or sweep as text, refusing over 2 MB or bad UTF-8."""
    if len(raw) > MAX_FILE_BYTES:
        raise problem(
            source,
            "file",
            f"is {size / 2**20:.1f} MB; expected a file of at most {MAX_FILE_BYTES / 2**20:g} MB",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise problem(source, "file", f"cannot be read ({error})") from None


def read_yaml(path: Path) -> object:
    """Return a YAML file's data; an unreadable file or bad YAML is one line naming it.

    Read with ``_Loader`` (keys are names, YAML 1.2 booleans, merge keys, no repeated key);
    a file over 2 MB, nesting deeper than 50 levels (also through aliases) and aliases that
    expand to over a million values are refused.
    """
    return yaml_data(_read_text(path), str(path))


def yaml_bytes(raw: bytes, source: str) -> object:
    """Return the data of YAML bytes (an upload) under the same checks as ``read_yaml``."""
    return yaml_data(_decoded(raw, source, len(raw)), source)


def yaml_data(text: str, source: str) -> object:
    """Return the data of YAML text read with the safe loader; ``source`` names it in errors."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except _Refused as error:
        raise problem(source, f"line {error.problem_mark.line + 1}", error.problem) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise problem(source, where, f"invalid YAML ({reason}); expected a YAML mapping") from None
    except RecursionError:  # merge keys that merge themselves
        raise problem(
            source, "file", "aliases nest without end; expected each alias to name a value"
        ) from None
    depth, size = _nesting(data)
    if depth == math.inf:
        raise problem(
            source,
            "file",
            "an alias names a list or mapping that holds it (it would nest without end); "
            "expected aliases to name earlier values only",
        )
    if depth > MAX_NESTING:
        raise problem(
            source,
            "file",
            f"nested deeper than {MAX_NESTING} levels through aliases; expected at most "
            f"{MAX_NESTING} levels of mappings and lists",
        )
    if size > MAX_VALUES:
        raise problem(
            source,
            "file",
            f"holds more than {MAX_VALUES:,} values (or {MAX_VALUES * TEXT_PER_VALUE / 1e6:g} "
            "MB of text) once aliases are expanded; expected "
            "a scenario or sweep of ordinary size",
        )
    return data


def load_scenario(source: str | Path) -> Scenario:
    """Load, validate and check a scenario from a YAML file or a built-in name."""
    path = resolve_source(source)
    return parse_scenario(read_yaml(path), str(path))


LATER_FIELDS: dict[str, dict[str, object]] = {
    "steps": {"complain": None, "loss": None, "silent": None, "customer_facing": False},
    "experience": {"severity_half_life": None},
    "loyalty": {"recovery_time": None},
    "scenario": {"evidence_notes": {}, "segments": {}},
    "scope": {"segments": None},
}
"""Fields added after the first release, and their defaults: left out of the hash."""


def _drop_defaults(data: dict, defaults: dict[str, object]) -> None:
    for field, default in defaults.items():
        if field in data and data[field] == default:
            del data[field]


_ROUTING_FIELDS = {
    "steps": ("next", "on_failure", "silent"),
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
    # fields added later, at their defaults, stay out: hashes of older scenarios hold
    for step in data["steps"].values():
        _drop_defaults(step, LATER_FIELDS["steps"])
    _drop_defaults(data["experience"], LATER_FIELDS["experience"])
    _drop_defaults(data["experience"]["loyalty"], LATER_FIELDS["loyalty"])
    _drop_defaults(data, LATER_FIELDS["scenario"])
    for what_if in data["what_ifs"].values():
        _drop_defaults(what_if["scope"], LATER_FIELDS["scope"])
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
