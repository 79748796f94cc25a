"""Random streams: stable keys, block draws served in order, independence between purposes."""

from __future__ import annotations

import numpy as np
import pytest

from spiral.engines.streams import BLOCK, PURPOSES, draws, generator, stream_key, uniforms


def test_the_same_seed_purpose_and_name_give_the_same_stream():
    a = generator(5, "service", "ship").random(10)
    b = generator(5, "service", "ship").random(10)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "other", [(6, "service", "ship"), (5, "failures", "ship"), (5, "service", "pack")]
)
def test_a_different_seed_purpose_or_node_gives_a_different_stream(other):
    np.testing.assert_raises(
        AssertionError,
        np.testing.assert_array_equal,
        generator(5, "service", "ship").random(10),
        generator(*other).random(10),
    )


def test_stream_keys_do_not_depend_on_creation_order():
    first = [stream_key(p, "x") for p in PURPOSES]
    again = [stream_key(p, "x") for p in reversed(PURPOSES)][::-1]
    assert first == again
    assert len(set(first)) == len(PURPOSES)


def test_draws_serve_the_blocks_in_order_across_block_boundaries():
    take = draws(np.random.default_rng(3), None, block=7)
    values = [take() for _ in range(20)]
    rng = np.random.default_rng(3)
    expected = np.concatenate([rng.random(7) for _ in range(3)])[:20]
    np.testing.assert_array_equal(values, expected)


def test_draws_use_the_sampler_and_uniforms_are_in_the_unit_interval():
    take = draws(np.random.default_rng(1), lambda rng, n: rng.exponential(4.0, n))
    values = np.array([take() for _ in range(4 * BLOCK)])
    assert abs(values.mean() - 4.0) < 4 * 4.0 / np.sqrt(len(values))
    u = uniforms(2, "decisions", "x")
    sample = np.array([u() for _ in range(5000)])
    assert sample.min() >= 0.0 and sample.max() < 1.0
    assert abs(sample.mean() - 0.5) < 4 * np.sqrt(1 / 12 / len(sample))
