"""`spiral studio` on the command line: safe by default, bad input refused in one line."""

from __future__ import annotations

import sys

import pytest
from studio_browser import Running, free_port
from test_cli import call_main

from spiral.studio.server import exposed, netloc, origins
from spiral.studio.sources import from_upload, opening


def test_only_loopback_counts_as_private():
    assert not exposed("127.0.0.1") and not exposed("localhost") and not exposed("::1")
    assert exposed("0.0.0.0") and exposed("192.168.1.20")


def test_a_missing_scenario_file_is_one_line_and_exit_code_2(monkeypatch, capsys, tmp_path):
    code, out, err = call_main(monkeypatch, capsys, "studio", tmp_path / "nope.yaml")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"{tmp_path / 'nope.yaml'}: file: no such file or built-in scenario (built-ins: "
        "airline_disruption, b2b_equipment, broadband_install, lending_centre, online_retail, "
        "tipping_point)"
    ]


def test_an_invalid_scenario_file_is_refused_before_serving(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nhorizon: 5 days\n", encoding="utf-8")
    code, out, err = call_main(monkeypatch, capsys, "studio", bad, "--port", free_port())
    assert code == 2 and "spiral studio: http" not in out
    assert err.splitlines()[0].startswith(f"{bad}: ")


def test_a_port_out_of_range_is_refused(monkeypatch, capsys):
    code, _, err = call_main(monkeypatch, capsys, "studio", "--port", "70000")
    assert code == 2
    assert err.strip() == "--port: expected 0 to 65535, got 70000"


def test_the_page_opens_the_files_named_first_then_the_built_ins(tiny_file):
    sources = opening([tiny_file])
    assert list(sources)[0] == str(tiny_file)
    assert "online_retail" in sources and sources["online_retail"].file_name == "online_retail.yaml"


def test_an_upload_goes_through_the_loader_and_its_checks(tiny_file):
    source = from_upload("../../etc/tiny.yaml", tiny_file.read_bytes())
    assert source.label == "upload: tiny.yaml"  # only the name, never a path
    assert source.scenario.name == "tiny"
    with pytest.raises(ValueError, match=r"^big\.yaml: file: is 2\.0 MB; expected a file of at"):
        from_upload("big.yaml", b"#" * (2 * 2**20 + 1))
    with pytest.raises(
        ValueError, match=r"^x\.yaml: line 2: invalid YAML \(expected the node content"
    ):
        from_upload("x.yaml", b"a: [1,\n")


@pytest.mark.slow
def test_serving_to_the_network_needs_host_and_warns():
    running = Running(["--host", "0.0.0.0"])
    try:
        running.url()
    finally:
        running.stop()
    seen, port = running.rest(), running.port
    warning = next(line for line in seen if line.startswith("warning:"))
    assert warning.startswith("warning: serving on 0.0.0.0: anyone who can reach this machine")
    assert warning.rstrip().endswith("from any web page they have open")
    assert f"spiral studio: http://0.0.0.0:{port}/ (Ctrl-C stops it)\n" in seen


def test_a_page_from_elsewhere_may_open_a_session_only_on_a_wildcard_address():
    assert origins("127.0.0.1", 80) == ["127.0.0.1:80", "localhost:80"]
    assert origins("192.168.1.20", 80) == ["192.168.1.20:80"]
    assert origins("0.0.0.0", 80) == ["*"]
    assert netloc("::1", 5006) == "[::1]:5006"


def test_without_panel_the_command_names_the_extra_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "panel", None)  # as if the [studio] extra were missing
    monkeypatch.delitem(sys.modules, "spiral.studio.server", raising=False)
    code, out, err = call_main(monkeypatch, capsys, "studio", "--port", free_port())
    assert code == 2 and out == ""
    assert err.strip() == (
        "spiral studio: needs Panel (panel is missing); expected `pip install 'spiral[studio]'`"
    )


@pytest.mark.slow
def test_sigterm_while_a_page_is_computing_stops_the_studio_cleanly():
    import signal
    import urllib.request

    running = Running([])
    try:
        url = running.url()
        with urllib.request.urlopen(url, timeout=60) as page:
            assert page.status == 200  # the session starts simulating the default scenario
        running.process.send_signal(signal.SIGTERM)
        code = running.process.wait(timeout=60)  # a server that ignores it fails here
    finally:
        running.stop()
    seen = running.rest()
    assert code == 0, seen
    assert seen[-1] == "spiral studio: stopped\n"
    assert not any("Traceback" in line for line in seen)
