"""Per-episode feature statistics and their aggregation, computed as LeRobot does.

Numeric features: min, max, mean, std, count, q01..q99 over the time axis. Camera features: the same
per channel over sampled frames scaled to [0, 1], shaped (3, 1, 1). Aggregation weights means and
quantiles by count and combines variances with the parallel formula.
"""

from __future__ import annotations

import numpy as np

QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}
STAT_KEYS = ("min", "max", "mean", "std", "count", *QUANTILES)


def sample_indices(n: int, min_samples: int = 100, max_samples: int = 10_000, power: float = 0.75) -> np.ndarray:
    """Frame indices LeRobot samples for image stats: all up to 100, then n**0.75."""
    lo = min(min_samples, n)
    k = max(lo, min(int(n**power), max_samples))
    return np.round(np.linspace(0, n - 1, k)).astype(int)


def array_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Stats over axis 0 of a (T,) or (T, n) array; scalars keep shape (1,)."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    out = {
        "min": x.min(axis=0),
        "max": x.max(axis=0),
        "mean": x.mean(axis=0),
        "std": x.std(axis=0),
        "count": np.array([len(x)], dtype=np.int64),
    }
    qs = np.quantile(x, list(QUANTILES.values()), axis=0)
    for i, name in enumerate(QUANTILES):
        out[name] = qs[i]
    return out


def image_stats(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel stats (3, 1, 1) in [0, 1] of uint8 frames (T, H, W, 3), on sampled frames.

    Computed from a 256-bin histogram per channel: exact (quantiles interpolate like np.quantile)
    and ~20x cheaper than sorting millions of pixels.
    """
    idx = sample_indices(len(frames))
    sel = frames if len(idx) == len(frames) else frames[idx]  # short episodes use every frame: no copy
    h, w = sel.shape[1:3]
    if max(h, w) >= 300:  # LeRobot downsamples large images to ~150 px before stats
        step = int(max(h, w) / 150)
        sel = sel[:, ::step, ::step]
    values = np.arange(256, dtype=np.float64)
    out: dict[str, list[float]] = {k: [] for k in ("min", "max", "mean", "std", *QUANTILES)}
    for hist in channel_histograms(sel):
        hist = hist.astype(np.float64)
        n = hist.sum()
        nz = np.nonzero(hist)[0]
        mean = (hist * values).sum() / n
        out["min"].append(nz[0])
        out["max"].append(nz[-1])
        out["mean"].append(mean)
        out["std"].append(np.sqrt((hist * (values - mean) ** 2).sum() / n))
        cum = np.cumsum(hist)
        for name, q in QUANTILES.items():
            pos = (n - 1) * q
            lo = int(np.floor(pos))
            v_lo = np.searchsorted(cum, lo, side="right")
            v_hi = np.searchsorted(cum, min(lo + 1, n - 1), side="right")
            out[name].append(v_lo + (pos - lo) * (v_hi - v_lo))
    stats = {k: (np.asarray(v, dtype=np.float64) / 255.0).reshape(3, 1, 1) for k, v in out.items()}
    stats["count"] = np.array([len(sel)], dtype=np.int64)
    return stats


def channel_histograms(frames: np.ndarray) -> list[np.ndarray]:
    """256-bin counts of each channel of uint8 RGB frames (..., 3).

    Two pixels are six bytes, read as three little-endian uint16 words (R0 G0), (B0 R1), (G1 B1):
    one 65,536-bin count per word position covers two channel values at once, so numpy walks half
    as many elements as with one count per channel (2x faster, same counts).
    """
    flat = np.ascontiguousarray(frames).reshape(-1)
    if flat.size % 2:  # an odd number of pixels cannot be read as whole words
        pixels = flat.reshape(-1, 3)
        return [np.bincount(pixels[:, c], minlength=256) for c in range(3)]
    words = flat.view("<u2")
    # pair[k][hi, lo]: counts of (low byte, high byte) at word position k
    pair = [np.bincount(words[k::3], minlength=65536).reshape(256, 256) for k in range(3)]
    red = pair[0].sum(axis=0) + pair[1].sum(axis=1)
    green = pair[0].sum(axis=1) + pair[2].sum(axis=0)
    blue = pair[1].sum(axis=0) + pair[2].sum(axis=1)
    return [red, green, blue]


def aggregate(stats_list: list[dict[str, dict[str, np.ndarray]]]) -> dict[str, dict[str, np.ndarray]]:
    """Combine per-episode stats into dataset stats (union of features)."""
    keys: list[str] = []
    for s in stats_list:
        keys.extend(k for k in s if k not in keys)
    out = {}
    for key in keys:
        items = [{k: np.asarray(v) for k, v in s[key].items()} for s in stats_list if key in s]
        means = np.stack([s["mean"] for s in items])
        variances = np.stack([np.asarray(s["std"], dtype=np.float64) ** 2 for s in items])
        counts = np.stack([s["count"] for s in items]).astype(np.float64)
        total = counts.sum(axis=0)
        w = counts.reshape(counts.shape + (1,) * (means.ndim - counts.ndim))
        mean = (means * w).sum(axis=0) / total.reshape(total.shape + (1,) * (means.ndim - 1 - total.ndim))
        var = ((variances + (means - mean) ** 2) * w).sum(axis=0) / total.reshape(
            total.shape + (1,) * (means.ndim - 1 - total.ndim)
        )
        agg = {
            "min": np.min(np.stack([s["min"] for s in items]), axis=0),
            "max": np.max(np.stack([s["max"] for s in items]), axis=0),
            "mean": mean,
            "std": np.sqrt(var),
            "count": total.astype(np.int64),
        }
        for q in QUANTILES:
            if all(q in s for s in items):
                qv = np.stack([s[q] for s in items])
                agg[q] = (qv * w).sum(axis=0) / total.reshape(total.shape + (1,) * (qv.ndim - 1 - total.ndim))
        out[key] = agg
    return out


def to_jsonable(stats: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, list]]:
    return {k: {s: np.asarray(v).tolist() for s, v in d.items()} for k, d in stats.items()}


def from_jsonable(stats: dict[str, dict[str, list]]) -> dict[str, dict[str, np.ndarray]]:
    return {k: {s: np.asarray(v) for s, v in d.items()} for k, d in stats.items()}


def histogram_stats(hist: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """min, max, mean, std and quantiles (interpolated as np.quantile) of samples given as counts per value.

    `values` must be ascending; hist[i] counts samples equal to values[i].
    """
    hist = hist.astype(np.float64)
    n = hist.sum()
    nz = np.nonzero(hist)[0]
    mean = (hist * values).sum() / n
    out = {"min": values[nz[0]], "max": values[nz[-1]], "mean": mean,
           "std": np.sqrt((hist * (values - mean) ** 2).sum() / n)}
    cum = np.cumsum(hist)
    for name, q in QUANTILES.items():
        pos = (n - 1) * q
        lo = int(np.floor(pos))
        v_lo = values[np.searchsorted(cum, lo, side="right")]
        v_hi = values[np.searchsorted(cum, min(lo + 1, n - 1), side="right")]
        out[name] = v_lo + (pos - lo) * (v_hi - v_lo)
    return out


def _sampled_plane(frames: np.ndarray) -> np.ndarray:
    """The frames LeRobot samples for image stats, downsampled as it does for large images."""
    idx = sample_indices(len(frames))
    sel = frames if len(idx) == len(frames) else frames[idx]
    h, w = sel.shape[1:3]
    if max(h, w) >= 300:
        step = int(max(h, w) / 150)
        sel = sel[:, ::step, ::step]
    return sel


def plane_stats(frames: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    """Stats (1, 1, 1) of single-channel integer frames (T, H, W) read as values[frame] (e.g. depth
    codes as metres, ids as id / 255), over the frames LeRobot samples for images."""
    sel = _sampled_plane(frames)
    hist = np.bincount(np.ascontiguousarray(sel).reshape(-1), minlength=len(values))
    stats = {k: np.array(v, dtype=np.float64).reshape(1, 1, 1) for k, v in histogram_stats(hist, values).items()}
    stats["count"] = np.array([len(sel)], dtype=np.int64)
    return stats
