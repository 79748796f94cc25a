"""The house style of every spiral picture: large type, few colours, readable on a projector."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

INK = "#222222"
GOOD = "#2471a3"  # blue: the healthy side, a fix, a what-if that helps
BAD = "#c0392b"  # red: failures, churn, the spiral
NEUTRAL = "#8c8c8c"
ACCENT = "#e67e22"  # escalation
SILO_COLOURS = ("#dbe9f6", "#fde2c8", "#d5f0dd", "#ecdff5", "#fbf3c2", "#f7d6dc", "#d9f2f2")
"""Pale band colours for silos on the journey map, in silo order."""

RC = {
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.labelsize": 13,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.8,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 12,
    "figure.titlesize": 16,
    "figure.titleweight": "bold",
    "figure.dpi": 110,
    "savefig.dpi": 130,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",  # text stays text in SVG: editable in a deck
}


@contextmanager
def house_style():  # noqa: ANN201 - a context manager
    """Draw inside this block in the house style."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(*grid: int, figsize: tuple[float, float], dpi: float | None = None, **kwargs):  # noqa: ANN201
    """Return a figure and its axes, made without pyplot: no backend, no global figure list.

    Nothing is shown by itself (in a notebook too): a view returns its figure, and the
    caller saves or displays it.
    """
    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots(*grid, **kwargs)


def save_figure(fig, folder: Path, name: str) -> list[Path]:  # noqa: ANN001 - a Figure
    """Save a figure as ``name``.png and ``name``.svg in ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    with house_style():  # the savefig settings (dpi, text kept as text) apply when saving
        for path in paths:
            fig.savefig(path)
    return paths


def png_bytes(fig, dpi: float | None = None) -> bytes:  # noqa: ANN001 - a Figure
    """Return a figure as PNG bytes in the house style (``dpi`` overrides the saving dpi)."""
    import io

    buffer = io.BytesIO()
    with house_style():
        fig.savefig(buffer, format="png", **({} if dpi is None else {"dpi": dpi}))
    return buffer.getvalue()


def compact_money(axis) -> None:  # noqa: ANN001 - a matplotlib Axis
    """Label a money axis compactly (-50k, 0, 100k, 1.2M) with at most five ticks."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def label(value: float, _: object) -> str:
        size = abs(value)
        if size >= 1e6:
            return f"{value / 1e6:g}M"
        if size >= 1e3:
            return f"{value / 1e3:g}k"
        return f"{value:g}"

    axis.set_major_locator(MaxNLocator(nbins=4))
    axis.set_major_formatter(FuncFormatter(label))


def overlapping_labels(fig) -> list[tuple[str, str]]:  # noqa: ANN001 - a Figure
    """Return pairs of tick labels on one axis whose drawn boxes overlap (none is right)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    found = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            boxes = [t.get_window_extent(renderer) for t in labels]
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    if boxes[i].overlaps(boxes[j]):
                        found.append((labels[i].get_text(), labels[j].get_text()))
    return found
