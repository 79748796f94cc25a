"""The clip of a run for the page: `spiral animate`'s drawing, returned as GIF bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from spiral.analysis.results import run
from spiral.model.scenario import Scenario
from spiral.views.animation import animate

CLIP_SECONDS = 20.0
CLIP_FPS = 10
CLIP_SIZE = (960, 540)


def clip(
    scenario: Scenario,
    seed: int,
    what_if: str | None = None,
    seconds: float = CLIP_SECONDS,
    fps: int = CLIP_FPS,
) -> bytes:
    """Return the GIF `spiral animate` draws for this scenario, seed and what-if."""
    result = run(scenario, seed=seed, event_log=True, what_if=what_if)
    with tempfile.TemporaryDirectory(prefix="spiral-studio-") as folder:
        out = Path(folder) / "clip.gif"
        animate(result, out, seconds=seconds, fps=fps, size=CLIP_SIZE)
        return out.read_bytes()
