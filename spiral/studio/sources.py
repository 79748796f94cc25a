"""What the studio may open: the built-ins, the files named on the command line, uploads.

Nothing typed into the page is read from disk: the page picks a source by its label from
this list, and an upload arrives as bytes that go through the same safe loader and
checks as ``spiral validate`` (``yaml_bytes`` then ``parse_scenario``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spiral.model.loading import builtin_scenarios, parse_scenario, read_yaml, yaml_bytes
from spiral.model.scenario import Scenario

UPLOAD_PREFIX = "upload: "


@dataclass(frozen=True)
class Source:
    """A scenario the page can open: its label, its file's data, and the validated model."""

    label: str
    data: dict
    scenario: Scenario
    file_name: str  # how the saved file and the command line name it


def from_file(path: Path, label: str | None = None) -> Source:
    """Return a scenario file as a source; ``ScenarioError`` (one line each) if invalid."""
    data = read_yaml(path)
    scenario = parse_scenario(data, str(path))
    return Source(label or str(path), data, scenario, path.name)


def from_upload(name: str, raw: bytes) -> Source:
    """Return an uploaded scenario as a source, checked as the CLI checks a file."""
    shown = Path(name).name or "upload.yaml"
    data = yaml_bytes(raw, shown)
    scenario = parse_scenario(data, shown)
    return Source(UPLOAD_PREFIX + shown, data, scenario, shown)


def opening(files: list[Path]) -> dict[str, Source]:
    """Return the sources a studio opens with: the files named first, then the built-ins."""
    sources = {str(path): from_file(path) for path in files}
    for name, path in builtin_scenarios().items():
        source = from_file(path, label=name)
        sources[name] = Source(name, source.data, source.scenario, f"{name}.yaml")
    return sources
