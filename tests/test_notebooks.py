"""The notebooks run top to bottom and show what they say (speed: benchmarks/)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel; return it with its outputs."""
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    NotebookClient(
        book, timeout=None, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return book


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
@pytest.mark.slow
def test_each_notebook_runs_and_shows_its_results(name, says, pictures, tmp_path):
    book = execute(name, tmp_path)
    text = text_of(book)
    for phrase in says:
        assert phrase in text, phrase
    assert images_of(book) == pictures
