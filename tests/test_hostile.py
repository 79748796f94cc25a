"""Replays the hostile-input corpus (tests/hostile/cases.yaml) through the command line.

Every case must be refused with exit code 2 and one line per problem naming the file and
the field (or accepted, where the case says so): no traceback, no control character on
the terminal, no hang (a time-out bounds each case) and no output left half-written.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from examples import TINY
from test_cli import call_main

from spiral.io.atomic_output import OutputLock
from spiral.model.loading import read_yaml

CORPUS = Path(__file__).parent / "hostile" / "cases.yaml"
CASES = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def _laughs() -> str:
    lines = ["name: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]" for k in range(1, 9)]
    return "\n".join(lines) + "\n"


def _empirical() -> str:
    data = copy.deepcopy(TINY)
    data["steps"]["order"]["service"] = {"dist": "empirical", "values": ["1 min"] * 20_000}
    return yaml.safe_dump(data)


def _small_log() -> str:
    rows = ["case:concept:name,concept:name,time:timestamp"]
    for case in range(10):
        for k, activity in enumerate("abcd"):
            rows.append(f"{case},{activity},2026-01-0{1 + case % 5}T{10 + k:02d}:00:00+00:00")
    return "\n".join(rows) + "\n"


XES_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE log [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<log><trace><string key="concept:name" value="1"/>
<event><string key="concept:name" value="&i;"/>
<date key="time:timestamp" value="2026-01-01T00:00:00+00:00"/></event></trace></log>
"""

XES_EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE log [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<log><trace><string key="concept:name" value="1"/>
<event><string key="concept:name" value="&secret;"/>
<date key="time:timestamp" value="2026-01-01T00:00:00+00:00"/></event>
<event><string key="concept:name" value="b"/>
<date key="time:timestamp" value="2026-01-01T01:00:00+00:00"/></event></trace></log>
"""


def _string_bomb() -> str:
    text = "x" * 1_000_000
    lines = [f"name: s\ndescription: &d {text}", "what_ifs:"]
    lines += [f"  w{k}: {{description: *d, changes: []}}" for k in range(200)]
    return "\n".join(lines) + "\n"


def _many_steps() -> str:
    data = copy.deepcopy(TINY)
    for k in range(30_000):
        data["steps"][f"s{k}"] = {"silo": "web", "next": "done"}
    return yaml.safe_dump(data)


GENERATORS = {
    "deep_lists": lambda: "name: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep_mappings": lambda: "scenario: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "billion_laughs": _laughs,
    "ten_megabytes": lambda: "name: x\ndescription: " + "a" * (10 * 2**20) + "\n",
    "long_empirical": _empirical,
    "small_log": _small_log,
    "xes_laughs": lambda: XES_LAUGHS,
    "xes_external_entity": lambda: XES_EXTERNAL,
    "string_bomb": _string_bomb,
    "many_steps": _many_steps,
}


def tiny_with(patch: dict) -> str:
    """Return the tiny scenario's YAML with dotted fields replaced (None removes one)."""
    data = copy.deepcopy(TINY)
    for path, value in patch.items():
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    for name in ("yes", "no"):  # as a user would write them: unquoted
        text = text.replace(f"'{name}'", name)
    return text


def prepare(case: dict, folder: Path) -> list[OutputLock]:
    """Write the case's files into ``folder``; return the locks it holds."""
    files = dict(case.get("files") or {})
    if "tiny" in case:
        files["s.yaml"] = tiny_with(case["tiny"])
    for name, kind in (case.get("generate") or {}).items():
        files[name] = GENERATORS[kind]()
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    for name, target in (case.get("link") or {}).items():
        (folder / name).symlink_to(folder / target)
    locks = []
    for name in case.get("lock") or []:
        lock = OutputLock(folder / name, "--out")
        lock.acquire()
        locks.append(lock)
    return locks


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_hostile_input_is_refused_in_one_line_per_problem(case, tmp_path, monkeypatch, capsys):
    """Exit code, one matching line per problem, nothing half-written, nothing forged."""
    monkeypatch.chdir(tmp_path)
    locks = prepare(case, tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in case.get("unchanged") or []}
    try:
        code, _, err = call_main(monkeypatch, capsys, *case["args"])
    finally:
        for lock in locks:
            lock.release()
    assert "Traceback" not in err
    assert code == case.get("code", 2), err
    lines = [line for line in err.splitlines() if line.strip()]
    assert all(ch.isprintable() for line in lines for ch in line), lines
    if code == 2:
        assert len(lines) == len(case["expect"]), lines
        for line, pattern in zip(lines, case["expect"], strict=True):
            assert re.fullmatch(pattern, line), (pattern, line)
    for name in case.get("absent") or []:
        assert not (tmp_path / name).exists(), name
    for name, content in before.items():
        assert (tmp_path / name).read_bytes() == content, name
    staging = [
        p.name
        for p in tmp_path.iterdir()
        if p.name.startswith(".") and p.name not in (case.get("hidden") or [])
    ]
    assert staging == [], staging  # no staging or lock left behind
    if "fitted_money" in case:  # the file name went in as a comment, not as a key
        fitted = read_yaml(tmp_path / case["fitted_money"])
        # the fit's own money is neutral (0); the name's 12345 must not have become a value
        assert fitted["money"]["revenue_per_retained"] == 0


def test_the_corpus_covers_every_input_format_and_command():
    """Scenario, sweep and event-log files, and the commands that take them."""
    commands = {case["args"][0] for case in CASES}
    assert {"validate", "run", "compare", "explain", "sweep", "from-log", "report"} <= commands
    assert len(CASES) >= 50
