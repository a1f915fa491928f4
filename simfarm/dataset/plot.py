"""`simfarm dataset plot PATH out=DIR`: the PNGs to look at first (matplotlib Agg, no display)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from simfarm.checks import writable_dir
from simfarm.dataset.reader import LeRobotReader, column_to_numpy, open_dataset
from simfarm.errors import DatasetError


def plot_dataset(path: str | os.PathLike, out_dir: str | os.PathLike, strip_episodes: int = 3,
                 strip_frames: int = 6) -> list[Path]:
    """Write episode_lengths.png, success_by_task.png, actions.png, states.png, frames.png; return their paths."""
    out = writable_dir("out", out_dir)
    ds = open_dataset(path)
    if ds.num_episodes == 0:
        raise DatasetError(f"{path} holds no episodes to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    if isinstance(ds, LeRobotReader):
        lengths = np.array([e["length"] for e in ds.episodes])
        rows = ds.simfarm_episodes
        tables = [ds.data_table(c, f) for c, f in sorted({(e["data/chunk_index"], e["data/file_index"]) for e in ds.episodes})]
        actions = np.concatenate([column_to_numpy(t.column("action")) for t in tables])
        states = (np.concatenate([column_to_numpy(t.column("observation.state")) for t in tables])
                  if "observation.state" in tables[0].column_names else None)
        names = {k: ds.info["features"][k].get("names") for k in ("action", "observation.state") if k in ds.info["features"]}
    else:
        rows = ds.simfarm_episodes
        with ds.open() as f:
            demos = ds.demo_names(f)
            lengths = np.array([int(f[f"data/{n}"].attrs["num_samples"]) for n in demos])
            actions = np.concatenate([f[f"data/{n}/actions"][()] for n in demos])
            states = (np.concatenate([f[f"data/{n}/obs/state"][()] for n in demos])
                      if demos and "state" in f[f"data/{demos[0]}/obs"] else None)
        names = {}

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(lengths, bins=min(30, max(5, len(lengths))), color="#4a7")
    ax.set(xlabel="episode length (steps)", ylabel="episodes", title=f"{len(lengths)} episodes")
    written.append(_save(fig, out / "episode_lengths.png"))

    by_task: dict[str, list[bool]] = {}
    for r in rows:
        by_task.setdefault(str(r.get("task")), []).append(bool(r.get("success")))
    fig, ax = plt.subplots(figsize=(6, 4))
    tasks = sorted(by_task)
    ax.bar(tasks, [np.mean(by_task[t]) for t in tasks], color="#47a")
    for i, t in enumerate(tasks):
        ax.text(i, np.mean(by_task[t]), f"n={len(by_task[t])}", ha="center", va="bottom")
    ax.set(ylim=(0, 1.05), ylabel="success rate", title="success by task")
    written.append(_save(fig, out / "success_by_task.png"))

    for key, values, fname in (("action", actions, "actions.png"), ("observation.state", states, "states.png")):
        if values is None:
            continue
        written.append(_save(_distributions(plt, values, names.get(key), key), out / fname))

    if isinstance(ds, LeRobotReader) and ds.video_keys:
        written.append(_frame_strip(plt, ds, out / "frames.png", strip_episodes, strip_frames))
    elif not isinstance(ds, LeRobotReader):
        with ds.open() as f:
            demos = ds.demo_names(f)[:strip_episodes]
            cams = [k for k in f[f"data/{demos[0]}/obs"] if k.endswith("_image")] if demos else []
            if cams:
                strips = []
                for n in demos:
                    frames = f[f"data/{n}/obs/{cams[0]}"]
                    idx = np.linspace(0, len(frames) - 1, strip_frames).astype(int)
                    strips.append(np.concatenate([frames[i] for i in idx], axis=1))
                fig, ax = plt.subplots(figsize=(2 * strip_frames, 2 * len(strips)))
                ax.imshow(np.concatenate(strips, axis=0))
                ax.set_axis_off()
                ax.set_title(f"{cams[0]}: {len(strips)} episodes")
                written.append(_save(fig, out / "frames.png"))
    return written


def _distributions(plt, values: np.ndarray, names, title: str):
    values = values.reshape(len(values), -1)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * values.shape[1]), 4))
    ax.boxplot([values[:, i] for i in range(values.shape[1])], showfliers=False)
    labels = names if names and len(names) == values.shape[1] else [str(i) for i in range(values.shape[1])]
    ax.set_xticks(range(1, values.shape[1] + 1), labels, rotation=45, ha="right")
    ax.set(title=f"{title} distribution per dimension ({len(values)} frames)")
    fig.tight_layout()
    return fig


def _frame_strip(plt, ds: LeRobotReader, path: Path, n_eps: int, n_frames: int) -> Path:
    keys = ds.video_keys
    eps = np.linspace(0, len(ds.episodes) - 1, min(n_eps, len(ds.episodes))).astype(int)
    fig, axes = plt.subplots(len(eps) * len(keys), 1, figsize=(2 * n_frames, 2 * len(eps) * len(keys)), squeeze=False)
    for i, e in enumerate(eps):
        for j, key in enumerate(keys):
            frames = ds.frames(int(e), key)
            idx = np.linspace(0, len(frames) - 1, min(n_frames, len(frames))).astype(int)
            ax = axes[i * len(keys) + j, 0]
            ax.imshow(np.concatenate([frames[k] for k in idx], axis=1))
            ax.set_axis_off()
            ax.set_title(f"episode {e}: {key}", fontsize=9)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=80)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
