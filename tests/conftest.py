"""Shared fixtures: the tiny scenario as YAML text, as data and validated; scenario writers."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from examples import TINY

from spiral.model.loading import parse_scenario
from spiral.model.scenario import Scenario

TINY_YAML = """\
name: tiny
horizon: 5 days
arrivals: {rate: 200 per day}
start: order
silos:
  web: {staff: unlimited}
  ops: {staff: 3}
  support: {staff: 2}
steps:
  order: {silo: web, self_service: true, service: 5 min, failure: 0.1, on_failure: help, next: ship}
  ship: {silo: ops, service: {dist: exponential, mean: 10 min}, failure: 0.2, on_failure: help, next: done}
contacts:
  help:
    silo: support
    handling: {dist: lognormal, mean: 8 min, cv: 0.5}
    fcr: 0.6
    resolved: ship
    unresolved: {help: 0.8, gone: 0.2}
    patience: {dist: exponential, mean: 5 min}
    give_up: gone
outcomes:
  done: {}
  gone: {kind: churn}
"""  # noqa: E501 - the scenario file verbatim, as users write it
"""The tiny scenario file exactly as written by hand (flow style, shorthands)."""


@pytest.fixture
def tiny_data() -> dict:
    """Return the tiny scenario as plain data (a fresh copy to modify)."""
    return copy.deepcopy(TINY)


@pytest.fixture
def tiny_scenario(tiny_data: dict) -> Scenario:
    """Return the tiny scenario, validated."""
    return parse_scenario(tiny_data, "tiny.yaml")


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Return a function writing scenario data to a YAML file in a temporary folder."""

    def write(data: dict, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    """Return the path of the tiny scenario file, written verbatim."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_YAML, encoding="utf-8")
    return path


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Return a Chromium to drive with Playwright: $SPIRAL_BROWSER or one on the PATH.

    In CI (``CI`` set, as ``.ci/run`` does, after installing Debian's chromium) a missing
    browser fails the test; elsewhere the browser tests skip, saying how to run them.
    """
    named = os.environ.get("SPIRAL_BROWSER")
    found = [Path(named)] if named else []
    found += [Path(p) for p in map(shutil.which, BROWSERS) if p]
    for path in found:
        if path.exists():
            return path
    reason = (
        "no Chromium found for the browser tests: install Debian's chromium "
        "(apt-get install chromium) or set SPIRAL_BROWSER; .ci/run installs it"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
