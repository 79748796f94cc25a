"""Rich tables from rows: every console table formats its cells one way (and needs no pandas)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from rich.table import Table


def money(value: float, currency: str) -> str:
    """Return an amount in whole currency units: 'GBP 1,234'."""
    return f"{currency} {value:,.0f}"


def pct(value: float) -> str:
    """Return a share as a percentage with one decimal: '12.3%'."""
    return f"{100 * value:.1f}%"


def cell(value: object, percent: bool) -> str:
    """Return one table cell: n/a for a missing number, a share as %, numbers with separators."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if percent:
        return pct(float(value))  # type: ignore[arg-type]
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}"
    return str(value)


def rows_table(
    index_name: str,
    columns: Sequence[str],
    rows: Iterable[tuple[object, Sequence[object]]],
    title: str,
    percent: tuple[str, ...] = (),
) -> Table:
    """Return (index, values) rows as a rich table; ``percent`` names the columns shown as %."""
    table = Table(title=title)
    table.add_column(index_name)
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for index, values in rows:
        cells = (cell(v, c in percent) for c, v in zip(columns, values, strict=True))
        table.add_row(str(index), *cells)
    return table
