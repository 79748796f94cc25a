"""`spiral animate`: a GIF with the frames asked for, customers where the log puts them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_cli import call_main

from spiral.analysis.results import run
from spiral.model.loading import load_scenario, with_length
from spiral.views.animation import (
    Visits,
    _first_per_node,
    animate,
    dot_positions,
    frame_times,
    title_text,
    visits_of,
)
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
    times = frame_times(result, 11)
    ends = result.customers["end"].dropna()
    assert times[-1] == pytest.approx(np.quantile(ends, 0.99))
    assert times[-1] < result.events["time"].max()  # the drain's stragglers are left out


def a_move(start, end, came_from=-1):
    """One customer (0) visiting node 1 from ``start`` to ``end``, arrived from ``came_from``."""
    return Visits(
        customer=np.array([0]),
        node=np.array([1]),
        came_from=np.array([came_from]),
        start=np.array([start]),
        end=np.array([end]),
        names=["a", "b"],
        births=pd.DataFrame({"time": [], "node": []}),
        escalations=np.array([]),
        churns=np.array([]),
    )


XY = np.array([[0.0, 0.0], [1.0, 0.0]])
JITTER = np.array([[0.02, -0.03]])


def test_a_dot_travels_along_the_edge_then_sits_at_the_new_node():
    visits = a_move(100.0, np.inf, came_from=0)
    halfway = dot_positions(visits, XY, JITTER, 105.0, travel=10.0)
    assert halfway.tolist() == [pytest.approx([0.5, 0.0])]  # on the edge: no jitter
    assert dot_positions(visits, XY, JITTER, 100.0, travel=10.0).tolist() == [[0.0, 0.0]]
    after = dot_positions(visits, XY, JITTER, 111.0, travel=10.0)
    assert after.tolist() == [pytest.approx([1.02, -0.03])]  # at node 1, plus its jitter


def test_a_move_is_no_longer_than_the_visit_it_leads_to():
    visits = a_move(100.0, 104.0, came_from=0)
    assert dot_positions(visits, XY, JITTER, 102.0, travel=10.0).tolist() == [
        pytest.approx([0.5, 0.0])
    ]
    assert len(dot_positions(visits, XY, JITTER, 104.0, travel=10.0)) == 0  # gone


def test_a_first_visit_and_a_clip_without_travel_show_the_dot_at_its_node():
    first = dot_positions(a_move(100.0, np.inf), XY, JITTER, 101.0, travel=10.0)
    assert first.tolist() == [pytest.approx([1.02, -0.03])]
    still = dot_positions(a_move(100.0, np.inf, came_from=0), XY, JITTER, 101.0, travel=0.0)
    assert still.tolist() == [pytest.approx([1.02, -0.03])]
    assert dot_positions(a_move(100.0, np.inf), XY, JITTER, 99.0, travel=10.0).shape == (0, 2)


def test_travelling_dots_are_capped_per_edge_like_sitting_dots_per_node():
    many = Visits(
        customer=np.arange(6),
        node=np.array([1, 1, 1, 0, 0, 0]),
        came_from=np.array([0, 0, 0, -1, -1, -1]),
        start=np.zeros(6),
        end=np.full(6, np.inf),
        names=["a", "b"],
        births=pd.DataFrame({"time": [], "node": []}),
        escalations=np.array([]),
        churns=np.array([]),
    )
    dots = dot_positions(many, XY, np.zeros((6, 2)), 5.0, travel=10.0, cap=2)
    assert sorted(map(tuple, dots.tolist())) == [(0.0, 0.0), (0.0, 0.0), (0.5, 0.0), (0.5, 0.0)]


def test_each_visit_knows_where_the_customer_came_from(result):
    names = list(map_data(result).positions)
    visits = visits_of(result, names)
    first = np.r_[True, visits.customer[1:] != visits.customer[:-1]]
    assert (visits.came_from[first] == -1).all()
    assert (visits.came_from[~first] == visits.node[:-1][~first[1:]]).all()


def test_the_title_mentions_the_drain_only_after_the_horizon():
    horizon = 30 * 1440.0
    before = title_text("online_retail", horizon, horizon, 40)
    assert before == "online_retail · day 30 00:00 · 40 in journey"
    after = title_text("online_retail", horizon + 1440 + 240, horizon, 12)
    assert after == (
        "online_retail · day 31 04:00 · drain: arrivals stopped at day 30 · 12 in journey"
    )
    odd = title_text("x", 200.0, 90.0, 1)
    assert "arrivals stopped at day 0 01:30" in odd


def test_the_frames_never_run_past_the_end_of_the_run(result):
    times = frame_times(result, 50)
    assert times.max() <= result.raw.end
    assert (np.diff(times) > 0).all()
    # a run cut short of its finishers' 99% quantile stops at its end
    short = SimpleNamespace(
        customers=pd.DataFrame({"end": [10.0, 500.0, 900.0]}), raw=SimpleNamespace(end=300.0)
    )
    assert frame_times(short, 4).tolist() == [0.0, 100.0, 200.0, 300.0]
