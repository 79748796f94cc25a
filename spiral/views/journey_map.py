"""The journey map: the graph left to right along the happy path, silos as bands.

Node colour is the share of complaints born at a step (first failures), node size the
visits, edge width the customers who took the edge, and a cross-silo handoff that mostly
went cold is dashed. Flows are counted from the event log when the run kept one, and
otherwise estimated as visits × branch probability.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spiral.model.graph import CONTACT, OUTCOME, STEP, build_graph
from spiral.views.style import INK, NEUTRAL, SILO_COLOURS, house_style, new_figure

OUTCOME_BAND = "outcomes"


@dataclass
class MapData:
    """What the map draws, per node and per edge."""

    positions: dict[str, tuple[float, float]]
    bands: list[str]  # silo names top to bottom, then outcomes
    kinds: dict[str, str]
    born_share: dict[str, float]  # steps: share of first failures born there
    visits: dict[str, float]
    flow: dict[tuple[str, str], float]
    cold_share: dict[tuple[str, str], float]  # cross-silo edges only
    counted: bool  # flows counted from the event log (else estimated)


def _columns(graph, start: dict[str, float]) -> dict[str, int]:  # noqa: ANN001 - nx.DiGraph
    """Return each node's column: hops from the start, the happy path taken first."""
    column: dict[str, int] = {}
    queue = deque((node, 0) for node in start)
    while queue:
        node, depth = queue.popleft()
        if node in column:
            continue
        column[node] = depth
        edges = sorted(
            graph.out_edges(node, data=True),
            key=lambda e: "next" not in e[2]["branches"] and "resolved" not in e[2]["branches"],
        )
        queue.extend((target, depth + 1) for _, target, _ in edges)
    for node in graph.nodes:
        column.setdefault(node, 0)
    return column


def _transitions(events) -> tuple[Counter, Counter, Counter]:  # noqa: ANN001 - frames
    """Count moves between consecutive visits, and warm and cold handoffs per move.

    ``events``: the event log as one DataFrame, or its chunks in time order. A visit
    starts when a customer reaches a contact, is served at a step, or ends at an outcome,
    and ends when the service completes, they are sent on from the wrong place (misrouted:
    the real visit follows at the same node, a loop) or they give up; so a contact that
    loops back to itself counts as a move too.
    """
    moves: Counter = Counter()
    warm: Counter = Counter()
    cold: Counter = Counter()
    kinds = ["contact", "start", "outcome", "handoff", "complete", "ping_pong", "abandon"]
    state: dict[int, list] = {}  # customer -> [previous visit, handoff into the next, ended]
    for chunk in [events] if isinstance(events, pd.DataFrame) else events:
        visits = chunk[chunk["event"].isin(kinds)]
        rows = zip(
            visits["customer"].tolist(),
            visits["node"].tolist(),
            visits["event"].tolist(),
            visits["detail"].tolist(),
            strict=True,
        )
        for customer, node, event, detail in rows:
            mine = state.get(customer)
            if mine is None:
                mine = state[customer] = [None, None, True]
            if event == "handoff":
                mine[1] = detail
            elif event in ("complete", "ping_pong", "abandon"):
                mine[2] = True
            elif mine[2]:  # a new visit begins
                previous, handoff = mine[0], mine[1]
                if previous is not None:
                    moves[(previous, node)] += 1
                    if handoff == "warm":
                        warm[(previous, node)] += 1
                    elif handoff == "cold":
                        cold[(previous, node)] += 1
                mine[0], mine[1], mine[2] = node, None, False
            if event == "outcome":
                del state[customer]
    return moves, warm, cold


def map_data(result) -> MapData:  # noqa: ANN001 - a RunResult
    """Return positions, colours, sizes and flows of a run's journey map."""
    scenario = result.scenario
    graph = build_graph(scenario)
    column = _columns(graph, graph.graph["start"])
    silos = list(scenario.silos)
    bands = [*silos, OUTCOME_BAND]
    band_of = {
        n: (d["silo"] if d["kind"] != OUTCOME else OUTCOME_BAND) for n, d in graph.nodes(data=True)
    }
    positions = {}
    for (band, col), members in _group(band_of, column).items():
        y0 = len(bands) - 1 - bands.index(band)
        for i, node in enumerate(members):  # side by side, a little staggered
            shift = i - (len(members) - 1) / 2
            positions[node] = (
                col + 0.42 * shift,
                y0 + (0.12 if i % 2 else -0.12) * (len(members) > 1),
            )
    names = result.raw.journey.names
    visits = {name: float(v) for name, v in zip(names, result.raw.node_visits, strict=True)}
    table = result.by_failure_step
    born = {
        n: float(table["share_of_failing"].get(n, 0.0)) if len(table) else 0.0
        for n, d in graph.nodes(data=True)
        if d["kind"] == STEP
    }
    flow, cold_share = {}, {}
    counted = result.raw.events is not None and len(result.raw.events) > 0
    if counted:
        moves, warm, cold = _transitions(result.event_chunks())
    for u, v, data in graph.edges(data=True):
        if counted:
            flow[(u, v)] = float(moves.get((u, v), 0))
        else:
            flow[(u, v)] = visits.get(u, 0.0) * data["p"]
        if data["handoff"]:
            if counted:
                total = warm.get((u, v), 0) + cold.get((u, v), 0)
                share = cold.get((u, v), 0) / total if total else np.nan
            else:
                silo = scenario.silos[graph.nodes[u]["silo"]]
                baton = silo.baton if silo.baton is not None else scenario.experience.baton
                share = 1.0 - baton
            cold_share[(u, v)] = share
    kinds = {n: d["kind"] for n, d in graph.nodes(data=True)}
    return MapData(positions, bands, kinds, born, visits, flow, cold_share, counted)


def _group(band_of: dict[str, str], column: dict[str, int]) -> dict:
    groups: dict = {}
    for node in sorted(band_of, key=lambda n: (column[n], n)):
        groups.setdefault((band_of[node], column[node]), []).append(node)
    return groups


def node_colours(data: MapData):  # noqa: ANN201 - an array of RGBA rows
    """Return each node's colour in map order: steps by born share (white to red)."""
    import matplotlib

    cmap = matplotlib.colormaps["Reds"]
    top = max(data.born_share.values(), default=0.0) or 1.0
    colours = []
    for node in data.positions:
        if data.kinds[node] == STEP:
            colours.append(cmap(0.08 + 0.92 * data.born_share[node] / top))
        elif data.kinds[node] == CONTACT:
            colours.append(matplotlib.colors.to_rgba("#fff6d5"))
        else:
            colours.append(matplotlib.colors.to_rgba("#f2f2f2"))
    return np.array(colours)


def edge_widths(data: MapData) -> dict[tuple[str, str], float]:
    """Return each edge's line width: 0.6 to 12 points, in proportion to its flow."""
    top = max(data.flow.values(), default=0.0) or 1.0
    return {edge: 0.6 + 11.4 * f / top for edge, f in data.flow.items()}


def draw_stage(ax, data: MapData, label_size: int = 12) -> None:  # noqa: ANN001 - an Axes
    """Draw the map's backdrop: silos as coloured bands with their names, no axes."""
    xs = [x for x, _ in data.positions.values()]
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    for i, band in enumerate(data.bands):
        y = len(data.bands) - 1 - i
        colour = SILO_COLOURS[i % len(SILO_COLOURS)] if band != OUTCOME_BAND else "#f4f4f4"
        ax.axhspan(y - 0.5, y + 0.5, color=colour, zorder=0)
        ax.text(min(xs) - 0.75, y, band, va="center", ha="right", fontsize=label_size, color=INK)
    ax.set_xlim(min(xs) - 1.6, max(xs) + 0.8)
    ax.set_ylim(-0.6, len(data.bands) - 0.4)


def journey_map(result, title: str | None = None):  # noqa: ANN201, ANN001 - Figure, RunResult
    """Draw a run's journey map."""
    from matplotlib.patches import Arc, FancyArrowPatch

    data = map_data(result)
    xs = [x for x, _ in data.positions.values()]
    width = max(xs) - min(xs) + 1
    with house_style():
        fig, ax = new_figure(figsize=(max(9.0, 2.3 * width + 2), 1.25 * len(data.bands) + 1.5))
        draw_stage(ax, data)
        widths = edge_widths(data)
        for (u, v), lw in widths.items():
            if data.flow[(u, v)] <= 0:
                continue
            if u == v:  # back to the same contact: a loop above the node
                x, y = data.positions[u]
                ax.add_patch(
                    Arc(
                        (x, y + 0.2),
                        0.32,
                        0.3,
                        theta1=-40,
                        theta2=220,
                        linewidth=lw,
                        color=NEUTRAL,
                        alpha=0.75,
                        zorder=1,
                    )
                )
                continue
            cold = data.cold_share.get((u, v))
            style = "--" if cold is not None and cold > 0.5 else "-"
            arrow = FancyArrowPatch(
                data.positions[u],
                data.positions[v],
                arrowstyle="-|>",
                mutation_scale=12,
                linewidth=lw,
                linestyle=style,
                color=NEUTRAL,
                alpha=0.75,
                connectionstyle="arc3,rad=0.12" if (v, u) in widths else "arc3,rad=0.0",
                shrinkA=16,
                shrinkB=16,
                zorder=1,
            )
            ax.add_patch(arrow)
        names = list(data.positions)
        top = max(data.visits.values(), default=1.0) or 1.0
        sizes = [250 + 1750 * np.sqrt(data.visits.get(n, 0.0) / top) for n in names]
        ax.scatter(
            [data.positions[n][0] for n in names],
            [data.positions[n][1] for n in names],
            s=sizes,
            c=node_colours(data),
            edgecolors=INK,
            linewidths=1.2,
            zorder=2,
        )
        for n in names:
            x, y = data.positions[n]
            label = n if data.kinds[n] != STEP else f"{n}\n{data.born_share[n]:.0%}"
            ax.annotate(
                label,
                (x, y),
                xytext=(0, -24),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=10,
                zorder=3,
            )
        how = "counted" if data.counted else "estimated"
        ax.set_title(
            (title or f"{result.scenario.name}: where complaints are born")
            + f"\nred: share of first failures · width: moves along the edge ({how}) · "
            "dashed: handoff mostly cold",
            fontsize=13,
        )
        fig.tight_layout()
    return fig
