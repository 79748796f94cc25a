"""Shared fixtures: the tiny scenario as data and validated, and a scenario-file writer."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from examples import TINY

from spiral.loading import parse_scenario
from spiral.scenario import Scenario


@pytest.fixture
def tiny_data() -> dict:
    """Return the tiny scenario as plain data (a fresh copy to modify)."""
    return copy.deepcopy(TINY)


@pytest.fixture
def tiny_scenario(tiny_data: dict) -> Scenario:
    """Return the tiny scenario, validated."""
    return parse_scenario(tiny_data, "tiny.yaml")


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[dict, str], Path]:
    """Return a function writing scenario data to a YAML file in a temporary folder."""

    def write(data: dict, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
