"""Provider shards (aep-pipelines:providerShards): the setting and the hash (pipelines/shards.py)."""

from __future__ import annotations

import zlib

import pytest

from pipelines import shards


@pytest.mark.parametrize("raw, expected", [(None, 0), ("", 0), ("0", 0), ("4", 4), (" 2 ", 2), (3, 3), ("16", 16)])
def test_valid_shard_counts(raw, expected):
    assert shards.parse(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "17", "two", "2.5", 2.5, True, -3, "0x2"])
def test_invalid_shard_counts_name_the_key_and_the_fix(raw):
    with pytest.raises(shards.ShardConfigError) as err:
        shards.parse(raw)
    msg = str(err.value)
    assert "aep-pipelines:providerShards must be a whole number from 0 to 16" in msg
    assert repr(raw) in msg
    assert "pulumi config set aep-pipelines:providerShards 4" in msg and "pulumi config rm" in msg


def test_a_pipeline_keeps_its_shard_whatever_else_is_in_the_stack():
    names = [f"pipe-{i}" for i in range(40)]
    alone = {n: shards.shard_of(n, 4) for n in names}
    # The assignment is a function of the name alone: no list position, no neighbours.
    assert {n: shards.shard_of(n, 4) for n in reversed(names[5:])} == {n: alone[n] for n in names[5:]}
    assert shards.shard_of("pendo", 4) == zlib.crc32(b"pendo") % 4 == 3
    assert set(alone.values()) == {0, 1, 2, 3}


def test_parallel_leaves_room_for_every_shard_and_never_lowers_the_engine_default():
    assert shards.parallel_for(0, wide=False) is None
    assert shards.parallel_for(2, default=8, wide=False) == 12
    assert shards.parallel_for(4, default=8, wide=False) == 20
    assert shards.parallel_for(16, default=8, wide=False) == 68
    assert shards.parallel_for(1, default=64, wide=False) == 64
    assert shards.parallel_for(4, wide=False) >= 20


def test_with_the_wide_pool_parallel_is_the_calls_at_once_for_any_shard_count():
    assert shards.parallel_for(0, default=8, wide=True) == shards.PARALLEL
    assert shards.parallel_for(4, default=8, wide=True) == shards.PARALLEL
    assert shards.parallel_for(0, default=64, wide=True) == 64  # never below the engine's default
    assert shards.parallel_for(0) == max(shards.PARALLEL, shards.default_engine_parallel())  # the pinned SDK
