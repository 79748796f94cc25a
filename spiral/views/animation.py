"""An animation of a run: customers as dots moving over the journey map.

A dot travels along the edge from a customer's previous node to the new one, then sits
(jittered) at the node. Nodes redden as complaints are born there, a counter shows
escalations so far; past the horizon the title says the clip shows the drain. Frames are
drawn with matplotlib one at a time and written as a GIF (Pillow; one 64-colour palette for
the whole clip keeps a 60-second clip small) or, where ffmpeg is installed, as MP4.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spiral.views.journey_map import draw_stage, map_data
from spiral.views.style import BAD, INK, NEUTRAL, house_style, new_figure
from spiral.views.trace import clock

DOTS_PER_NODE = 40  # more customers at a node (or on an edge) show as a number, not more dots
TRAVEL_FRAMES = 3  # a move along an edge spans about this many frames of the clip


@dataclass
class Visits:
    """Every visit of the run: who was where from when until when."""

    customer: np.ndarray
    node: np.ndarray  # index into the map's node list
    came_from: np.ndarray  # the node of the customer's previous visit, -1 for a first visit
    start: np.ndarray
    end: np.ndarray
    names: list[str]
    births: pd.DataFrame  # time, node index: first failures
    escalations: np.ndarray  # times
    churns: np.ndarray  # times customers churned


def visits_of(result, names: list[str]) -> Visits:  # noqa: ANN001 - a RunResult
    """Return the visits in a run's event log, each until the customer's next move."""
    kinds = ["start", "outcome", "failure", "escalate"]
    events = pd.concat(
        [chunk[chunk["event"].isin(kinds)] for chunk in result.event_chunks()], ignore_index=True
    )
    index = {n: i for i, n in enumerate(names)}
    moves = events[events["event"].isin(["start", "outcome"])].sort_values(
        ["customer", "time"], kind="stable"
    )
    customer = moves["customer"].to_numpy()
    start = moves["time"].to_numpy(float)
    later = np.r_[start[1:], np.inf]
    same = np.r_[customer[1:] == customer[:-1], False]
    done = (moves["event"] == "outcome").to_numpy()
    end = np.where(done, start, np.where(same, later, np.inf))  # an outcome is left at once
    node = moves["node"].map(index).to_numpy()
    came_from = np.where(np.r_[False, customer[1:] == customer[:-1]], np.r_[-1, node[:-1]], -1)
    failures = events[events["event"] == "failure"]
    first = failures.drop_duplicates("customer")
    births = pd.DataFrame({"time": first["time"], "node": first["node"].map(index)})
    escalations = events.loc[events["event"] == "escalate", "time"].to_numpy(float)
    gone = (events["event"] == "outcome") & (events["detail"] == "churned")
    churns = np.sort(events.loc[gone, "time"].to_numpy(float))
    return Visits(
        customer, node, came_from, start, end, names, births, np.sort(escalations), churns
    )


def dot_positions(
    visits: Visits,
    xy: np.ndarray,
    jitter: np.ndarray,
    t: float,
    travel: float,
    cap: int = DOTS_PER_NODE,
) -> np.ndarray:
    """Return the (x, y) of every dot at time ``t``: on its edge while moving, else at its node.

    A visit that came from another node starts with a move of ``travel`` minutes along the
    straight line between the two nodes (no jitter: the dot is on the edge), shortened to the
    visit's own length so the dot always arrives before it moves on; then the dot sits at the
    node, offset by the customer's ``jitter`` (as does a repeat visit to the same node). At
    most ``cap`` dots sit at a node and at most ``cap`` travel along an edge.
    """
    here = (visits.start <= t) & (t < visits.end)
    who, node, came = visits.customer[here], visits.node[here], visits.came_from[here]
    took = np.minimum(travel, visits.end[here] - visits.start[here])
    since = t - visits.start[here]
    moving = (came >= 0) & (came != node) & (since < took)
    share = (since[moving] / took[moving])[:, None]
    a, b = xy[came[moving]], xy[node[moving]]
    on_edge = a + share * (b - a)
    edge = came[moving] * len(xy) + node[moving]
    sit_node, sit_who = node[~moving], who[~moving]
    keep = _first_per_node(sit_node, cap)
    sitting = xy[sit_node[keep]] + jitter[sit_who[keep]]
    return np.vstack([sitting.reshape(-1, 2), on_edge[_first_per_node(edge, cap)].reshape(-1, 2)])


def arrivals_end(result) -> float:  # noqa: ANN001 - a RunResult
    """Return when arrivals stop: the scenario's horizon, or the last arrival of a counted run."""
    horizon = result.scenario.horizon
    return float(horizon if horizon is not None else result.raw.arrivals_end)


def title_text(name: str, t: float, horizon: float, in_journey: int) -> str:
    """Return a frame's title; past the horizon it says the clip shows the drain."""
    if t <= horizon:
        return f"{name} · {clock(t)} · {in_journey} in journey"
    stopped = clock(horizon).removesuffix(" 00:00")  # "day 30" for a whole-day horizon
    return f"{name} · {clock(t)} · drain: arrivals stopped at {stopped} · {in_journey} in journey"


def frame_times(result, frames: int) -> np.ndarray:  # noqa: ANN001
    """Return the simulated time of each frame, evenly until 99% of customers have finished.

    The last stragglers of the drain would otherwise fill most of the clip with an empty map.
    The clip never runs past the run's end.
    """
    ends = result.customers["end"].dropna().to_numpy(float)
    end = float(np.quantile(ends, 0.99)) if len(ends) else float(result.events["time"].max())
    return np.linspace(0.0, min(max(end, 1.0), float(result.raw.end)), frames)


SIZE = (960, 540)  # pixels: a quarter of full HD, small enough to mail (see --size)
DPI = 100


def animate(  # noqa: C901 - one drawing loop, two writers
    result,  # noqa: ANN001 - a RunResult
    out: Path,
    seconds: float = 30.0,
    fps: int = 10,
    size: tuple[int, int] = SIZE,
) -> Path:
    """Write the run's animation to ``out`` (.gif, or .mp4 with ffmpeg); return the path.

    ``size`` is the clip's width and height in pixels; type grows with it.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.lines import Line2D
    from PIL import Image

    reds = matplotlib.colormaps["Reds"]
    frames = max(int(round(seconds * fps)), 1)
    data = map_data(result)
    names = list(data.positions)
    visits = visits_of(result, names)
    xy = np.array([data.positions[n] for n in names])
    rng = np.random.default_rng(0)
    jitter = rng.normal(0, 0.09, (int(visits.customer.max(initial=0)) + 1, 2))
    times = frame_times(result, frames)
    # a move spans TRAVEL_FRAMES frames of the clip, whatever the run's length (see dot_positions)
    travel = TRAVEL_FRAMES * float(times[1] - times[0]) if frames > 1 else 0.0
    horizon = arrivals_end(result)
    mp4 = out.suffix.lower() == ".mp4"
    scale = size[1] / 540  # type and marks grow with the clip (540 px: the old size)
    with house_style():
        fig, ax = new_figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)
        FigureCanvasAgg(fig)  # frames are drawn to pixels here, whatever the user's backend
        draw_stage(ax, data, label_size=10 * scale)
        for (u, v), f in data.flow.items():
            if f > 0:
                (x0, y0), (x1, y1) = data.positions[u], data.positions[v]
                ax.plot([x0, x1], [y0, y1], color=NEUTRAL, linewidth=0.8, alpha=0.5, zorder=1)
        nodes = ax.scatter(
            xy[:, 0], xy[:, 1], s=420 * scale**2, c="white", edgecolors=INK, zorder=2
        )
        for n, (x, y) in zip(names, xy, strict=True):
            ax.text(x, y - 0.32, n, ha="center", va="top", fontsize=9 * scale, zorder=3)
        dots = ax.scatter([], [], s=9 * scale**2, c=BAD, zorder=4)
        counter = ax.text(
            0.99,
            0.98,
            "",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=11 * scale,
            color=BAD,
            weight="bold",
            linespacing=1.3,
        )
        legend = [
            Line2D([], [], marker="o", linestyle="", color=BAD, markersize=4 * scale),
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor=reds(0.9),
                markeredgecolor=INK,
                markersize=9 * scale,
            ),  # fmt: skip
        ]
        ax.legend(
            legend,
            ["a customer", "complaints born here (the redder, the more)"],
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            fontsize=9 * scale,
            frameon=False,
        )
        title = ax.set_title(f"{result.scenario.name} · day 0 00:00", fontsize=12 * scale)
        fig.tight_layout()

        def draw(t: float) -> None:
            here = (visits.start <= t) & (t < visits.end)
            dots.set_offsets(dot_positions(visits, xy, jitter, t, travel))
            born = np.bincount(
                visits.births.loc[visits.births["time"] <= t, "node"].to_numpy(int),
                minlength=len(names),
            )
            nodes.set_facecolors(reds(0.05 + 0.9 * born / max(born.max(), 1)))
            escalated = int(np.searchsorted(visits.escalations, t, side="right"))
            churned = int(np.searchsorted(visits.churns, t, side="right"))
            counter.set_text(
                f"in journey: {int(here.sum()):,}\nproblems: {int(born.sum()):,}\n"
                f"escalations: {escalated:,}\nchurned: {churned:,}"
            )
            title.set_text(title_text(result.scenario.name, t, horizon, int(here.sum())))

        def rgb_now():  # noqa: ANN202 - the canvas as an RGB image
            fig.canvas.draw()
            return Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])

        def gif_frames(palette):  # noqa: ANN001, ANN202 - drawn as written: memory stays flat
            for t in times[1:]:
                draw(t)
                yield rgb_now().quantize(palette=palette, dither=Image.Dither.NONE)

        if mp4:
            from matplotlib.animation import FFMpegWriter

            writer = FFMpegWriter(fps=fps)
            with writer.saving(fig, str(out), dpi=DPI):
                for t in times:
                    draw(t)
                    writer.grab_frame()
        else:
            draw(times[0])
            frame = rgb_now()
            # one palette for the whole clip: the map's colours plus every red a node can take
            ramp = (np.asarray(reds(np.linspace(0, 1, frame.width)))[:, :3] * 255).astype(np.uint8)
            source = np.vstack([np.asarray(frame), np.repeat(ramp[None], 40, axis=0)])
            palette = Image.fromarray(source).quantize(colors=64, dither=Image.Dither.NONE)
            first = frame.quantize(palette=palette, dither=Image.Dither.NONE)
            first.save(
                out,
                save_all=True,
                append_images=gif_frames(palette),
                duration=int(round(1000 / fps)),
                loop=0,
                optimize=False,
            )
    return out


def _first_per_node(where: np.ndarray, cap: int) -> np.ndarray:
    """Return a mask keeping at most ``cap`` customers per node (the first in order)."""
    if not len(where):
        return np.zeros(0, bool)
    order = np.argsort(where, kind="stable")
    ranks = np.empty(len(where), int)
    sorted_nodes = where[order]
    starts = np.r_[0, np.flatnonzero(sorted_nodes[1:] != sorted_nodes[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(where)])
    ranks[order] = np.arange(len(where)) - np.repeat(starts, counts)
    return ranks < cap


MAX_GIF_FPS = 50  # a GIF frame lasts whole hundredths of a second, at least 2 in browsers


def can_write(out: Path, fps: int = 10) -> str | None:
    """Return why a path cannot take an animation at this frame rate (None when it can)."""
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        return f"expected a file ending in .gif or .mp4, got {out.name!r}"
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        return "MP4 needs ffmpeg, which is not installed here; expected a .gif"
    if suffix == ".gif" and fps > MAX_GIF_FPS:
        return f"a GIF plays at most {MAX_GIF_FPS} frames per second; expected --fps <= 50 or .mp4"
    return None
