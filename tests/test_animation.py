"""`spiral animate`: a GIF with the frames asked for, customers where the log puts them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from test_cli import call_main

from spiral.analysis.results import run
from spiral.model.loading import load_scenario, with_length
from spiral.views.animation import _first_per_node, animate, visits_of
from spiral.views.journey_map import map_data


@pytest.fixture(scope="module")
def result():
    scenario = with_length(load_scenario("online_retail"), horizon=4 * 1440.0)
    return run(scenario, seed=1, event_log=True)


@pytest.mark.slow
def test_the_gif_has_the_frames_and_the_size_asked_for(result, tmp_path):
    out = animate(result, tmp_path / "run.gif", seconds=3, fps=5)
    with Image.open(out) as gif:
        assert gif.n_frames == 15
        assert gif.info["duration"] == 200  # ms per frame at 5 per second
        assert gif.size == (960, 540)  # by default: small enough to mail
    small = animate(result, tmp_path / "small.gif", seconds=1, fps=2, size=(640, 360))
    with Image.open(small) as gif:
        assert gif.size == (640, 360)


def test_the_counters_count_churn_from_the_log(result):
    names = list(map_data(result).positions)
    visits = visits_of(result, names)
    churned = (result.customers["outcome"] == "churned").sum()
    assert len(visits.churns) == churned > 0
    assert (np.diff(visits.churns) >= 0).all()


def test_a_size_that_is_not_width_x_height_is_refused(monkeypatch, capsys, tmp_path):
    out = tmp_path / "run.gif"
    code, _, err = call_main(monkeypatch, capsys, "animate", "--out", out, "--size", "big")
    assert code == 2 and not out.exists()
    assert err.strip() == (
        "spiral animate: --size: expected WIDTHxHEIGHT from 320x180 to 3840x2160, got 'big'"
    )


def test_each_visit_lasts_until_the_customers_next_move(result):
    names = list(map_data(result).positions)
    visits = visits_of(result, names)
    assert (visits.end >= visits.start).all()
    # at any moment a customer is in at most one place
    t = float(np.median(visits.start))
    here = (visits.start <= t) & (t < visits.end)
    assert len(set(visits.customer[here])) == here.sum()
    in_journey = result.customers
    inside = ((in_journey["arrival"] <= t) & ~(in_journey["end"] <= t)).sum()
    assert here.sum() <= inside


def test_at_most_a_capped_number_of_dots_per_node():
    where = np.array([0, 1, 0, 0, 2, 0, 1])
    keep = _first_per_node(where, 2)
    assert keep.tolist() == [True, True, True, False, True, False, True]


def test_a_file_that_is_not_a_gif_or_mp4_is_refused(monkeypatch, capsys, tmp_path):
    code, _, err = call_main(monkeypatch, capsys, "animate", "--out", tmp_path / "run.png")
    assert code == 2
    assert err.strip() == (
        "spiral animate: --out: expected a file ending in .gif or .mp4, got 'run.png'"
    )


def test_a_gif_over_50_frames_a_second_is_refused(monkeypatch, capsys, tmp_path):
    code, _, err = call_main(
        monkeypatch, capsys, "animate", "--out", tmp_path / "run.gif", "--fps", "60"
    )
    assert code == 2
    assert err.strip() == (
        "spiral animate: --out: a GIF plays at most 50 frames per second; "
        "expected --fps <= 50 or .mp4"
    )


def test_the_clip_ends_when_99_percent_of_customers_have_finished(result):
    from spiral.views.animation import frame_times

    times = frame_times(result, 11)
    ends = result.customers["end"].dropna()
    assert times[-1] == pytest.approx(np.quantile(ends, 0.99))
    assert times[-1] < result.events["time"].max()  # the drain's stragglers are left out
