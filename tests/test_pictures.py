"""`--plot DIR`: every picture as PNG and SVG, files that parse back."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from test_cli import call_main

from spiral.views.pictures import COMPARISON_FIGURES, RUN_FIGURES


def check_pictures(folder, names):
    for name in names:
        with Image.open(folder / f"{name}.png") as image:
            assert image.format == "PNG" and image.width > 600 and image.height > 300
        svg = ET.parse(folder / f"{name}.svg").getroot()
        assert svg.tag.endswith("svg")
        texts = "".join(svg.itertext())
        assert texts.strip()  # text stays text: editable in a deck


@pytest.mark.slow
def test_run_plot_draws_the_spiral_curve_journey_map_and_time_series(tmp_path, monkeypatch, capsys):
    plots = tmp_path / "plots"
    code, out, _ = call_main(
        monkeypatch, capsys, "run", "online_retail", "--horizon", "4 days", "--plot", plots
    )
    assert code == 0 and f"drew 6 pictures in {plots}/" in out
    check_pictures(plots, RUN_FIGURES)
    assert "where complaints are born" in "".join(
        ET.parse(plots / "journey_map.svg").getroot().itertext()
    )


@pytest.mark.slow
def test_compare_plot_draws_the_bars_and_the_differences(tmp_path, monkeypatch, capsys):
    plots = tmp_path / "plots"
    code, out, _ = call_main(
        monkeypatch,
        capsys,
        "compare",
        "online_retail",
        "--what-if",
        "warm_handoffs",
        "--replications",
        "2",
        "--horizon",
        "4 days",
        "--plot",
        plots,
    )
    assert code == 0 and f"drew 4 pictures in {plots}/" in out
    check_pictures(plots, COMPARISON_FIGURES)


def test_a_plot_folder_that_cannot_be_written_is_one_line_and_exit_code_2(
    tmp_path, monkeypatch, capsys
):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = call_main(
        monkeypatch, capsys, "run", "online_retail", "--horizon", "4 days", "--plot", blocker / "x"
    )
    assert code == 2
    assert err.strip() == (
        f"{blocker / 'x'}: --plot: cannot create the folder {blocker}: {blocker} is a file; "
        "expected a place that can be written"
    )
