"""Job planning: episodes 0..N-1 grouped into fixed-size shards.

The shard size is a content key, never derived from the worker count, so the same config gives
the same shards (and the same dataset) on one core or a thousand nodes.

The plan is a lazy sequence: shard k is computed when asked for, so planning 10**13 episodes
costs nothing and the driver's memory grows with the shards it has run, not with those planned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from simfarm.errors import ConfigError


@dataclass(frozen=True)
class ShardPlan:
    """One unit of work: a contiguous run of episode indices, written by one Ray task."""

    index: int
    first_episode: int
    num_episodes: int

    @property
    def name(self) -> str:
        return shard_name(self.index)

    @property
    def episode_indices(self) -> range:
        return range(self.first_episode, self.first_episode + self.num_episodes)


def shard_name(index: int) -> str:
    """Folder and marker name of shard `index` (zero-padded so names sort in episode order)."""
    return f"shard-{index:06d}"


class ShardPlans(Sequence[ShardPlan]):
    """The shards covering episodes 0..episodes-1 in order, computed on demand (the last may be shorter)."""

    def __init__(self, episodes: int, shard_size: int) -> None:
        self.episodes = episodes
        self.shard_size = shard_size

    def __len__(self) -> int:
        return -(-self.episodes // self.shard_size)

    @overload
    def __getitem__(self, k: int) -> ShardPlan: ...

    @overload
    def __getitem__(self, k: slice) -> list[ShardPlan]: ...

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        n = len(self)
        k = int(k)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(f"shard {k} is outside the plan of {n} shard{'' if n == 1 else 's'}")
        start = k * self.shard_size
        return ShardPlan(index=k, first_episode=start, num_episodes=min(self.shard_size, self.episodes - start))

    def __iter__(self) -> Iterator[ShardPlan]:
        for k in range(len(self)):
            yield self[k]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ShardPlans):
            return (self.episodes, self.shard_size) == (other.episodes, other.shard_size)
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.episodes, self.shard_size))

    def __repr__(self) -> str:
        return f"ShardPlans(episodes={self.episodes}, shard_size={self.shard_size})"

    @property
    def num_episodes(self) -> int:
        return self.episodes


def plan_shards(episodes: int, shard_size: int) -> ShardPlans:
    """Shards covering episodes 0..episodes-1 in order; the last one may be shorter."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ConfigError(f"episodes: must be an integer >= 1, got {episodes!r}")
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ConfigError(f"shard_size: must be an integer >= 1, got {shard_size!r}")
    return ShardPlans(episodes, shard_size)
