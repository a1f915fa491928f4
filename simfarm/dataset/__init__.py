"""Dataset tools: `info`, `validate`, `plot` (and `replay`, which re-simulates) for simfarm datasets."""

from __future__ import annotations

from simfarm.dataset.reader import detect_format, load_episode_record, open_dataset

__all__ = ["detect_format", "load_episode_record", "open_dataset"]
