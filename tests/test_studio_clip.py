"""The studio's clip: `spiral animate`'s GIF for the page's settings."""

from __future__ import annotations

import io

from PIL import Image

from spiral.studio.clip import CLIP_SIZE, clip


def test_the_clip_is_a_gif_of_the_frames_and_size_asked_for(tiny_scenario):
    data = clip(tiny_scenario, seed=1, seconds=1.0, fps=5)
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.size == CLIP_SIZE
    assert image.n_frames == 5
