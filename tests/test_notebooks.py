"""The notebooks run top to bottom, each well within two minutes, and show what they say."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LIMIT = 120  # seconds: the promise to each user


def execute(name: str, tmp_path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook in a fresh kernel; return it with its outputs and the seconds taken."""
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    started = time.perf_counter()
    NotebookClient(
        book, timeout=LIMIT, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return book, time.perf_counter() - started


def text_of(book: nbformat.NotebookNode) -> str:
    """Return every stream and text output of the notebook."""
    parts = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def images_of(book: nbformat.NotebookNode) -> int:
    """Return how many pictures the notebook showed."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in book.cells
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize(
    ("name", "says", "pictures"),
    [
        ("trainer_compounding_failures", ["FAILED", "churn with no failure:", "escalations:"], 2),
        ("strategist_what_if", ["Recommend ", "the pilot shows"], 1),
        (
            "researcher_sweep",
            ["48 runs ok", "drives churn most:", "identical rows on Dask: True"],
            1,
        ),
    ],
)
def test_each_notebook_runs_in_under_two_minutes_and_shows_its_results(
    name, says, pictures, tmp_path
):
    book, seconds = execute(name, tmp_path)
    assert seconds < LIMIT
    text = text_of(book)
    for phrase in says:
        assert phrase in text, phrase
    assert images_of(book) == pictures
