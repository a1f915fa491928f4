"""Evaluation reports from per-episode results: report.json, report.md and PNG plots.

A result is a dict per episode, as the eval runner records it:

    {episode_index, task, program, randomization, success, length, time_to_success_s,
     safety: {peak_contact_force_n, collisions, joint_limit_hits}, error, act_time_s: [...],
     failure_cause (optional), video (optional)}

An episode with an `error` counts as a failure (a policy that crashes does not succeed) and is
listed with its cause. Missing keys are tolerated (`program: None` when the scene was fixed).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simfarm.evaluation.stats import describe, rate_summary

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
SUCCESS_PLOT = "success_by_task.png"
LENGTH_PLOT = "episode_length.png"
REPORT_VERSION = 1
# Breakdown name in the report -> the result key it groups by.
BREAKDOWNS = {"by_task": "task", "by_program": "program", "by_randomization": "randomization"}
MAX_FAILURE_ROWS_MD = 50


def _succeeded(result: dict[str, Any]) -> bool:
    return bool(result.get("success")) and not result.get("error")


def failure_cause(result: dict[str, Any]) -> str | None:
    """Why an episode failed: its `failure_cause`, else its error's kind, else 'no success'."""
    if _succeeded(result):
        return None
    if result.get("failure_cause"):
        return str(result["failure_cause"])
    error = result.get("error")
    if error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        # "episode 3 step 5: policy error: ..." -> "policy error"; "PolicyError: ..." -> "PolicyError".
        parts = [p.strip() for p in first.split(":")]
        for part in parts[:-1]:
            if part and not part.startswith("episode"):
                return part
        return first[:80]
    return "no success"


def _group_rates(
    results: Sequence[dict[str, Any]], key: str, confidence: float
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        groups[str(r.get(key))].append(_succeeded(r))
    return {
        name: rate_summary(sum(flags), len(flags), confidence)
        for name, flags in sorted(groups.items())
    }


def _safety(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    safety = [r.get("safety") or {} for r in results]
    out: dict[str, Any] = {}
    for key in ("peak_contact_force_n", "collisions", "joint_limit_hits"):
        values = [s[key] for s in safety if s.get(key) is not None]
        out[key] = describe(values)
        if key != "peak_contact_force_n":
            total = sum(values)
            out[key]["total"] = int(total) if float(total).is_integer() else float(total)
            out[key]["episodes_with_any"] = int(sum(1 for v in values if v > 0))
    return out


def summarize(results: Sequence[dict[str, Any]], confidence: float = 0.95) -> dict[str, Any]:
    """Every figure of the report, computed from the per-episode results (pure, JSON-ready)."""
    results = sorted(
        results, key=lambda r: (r.get("episode_index") is None, r.get("episode_index", 0))
    )
    n = len(results)
    successes = sum(_succeeded(r) for r in results)
    act_times = [t for r in results for t in (r.get("act_time_s") or [])]
    episode_act_means = [float(np.mean(r["act_time_s"])) for r in results if r.get("act_time_s")]
    failures = [
        {
            "episode_index": r.get("episode_index"),
            "task": r.get("task"),
            "program": r.get("program"),
            "randomization": r.get("randomization"),
            "cause": failure_cause(r),
            "error": r.get("error"),
        }
        for r in results
        if not _succeeded(r)
    ]
    summary: dict[str, Any] = {
        "n_episodes": n,
        "confidence": confidence,
        "overall": {
            **rate_summary(successes, n, confidence),
            "errors": sum(1 for r in results if r.get("error")),
        },
    }
    for name, key in BREAKDOWNS.items():
        summary[name] = _group_rates(results, key, confidence)
    summary.update(
        {
            "episode_length": {
                "all": describe(r.get("length") for r in results),
                "success": describe(r.get("length") for r in results if _succeeded(r)),
                "failure": describe(r.get("length") for r in results if not _succeeded(r)),
            },
            "time_to_success_s": describe(
                r.get("time_to_success_s") for r in results if _succeeded(r)
            ),
            "safety": _safety(results),
            "latency": {
                "act_time_s": describe(act_times),
                "episode_mean_act_time_s": describe(episode_act_means),
            },
            "failures": {
                "count": len(failures),
                "by_cause": dict(
                    sorted(
                        Counter(f["cause"] for f in failures).items(),
                        key=lambda kv: (-kv[1], kv[0]),
                    )
                ),
                "episodes": failures,
            },
        }
    )
    return summary


# --------------------------------------------------------------------------------------------
# Markdown


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.1f}%"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(_fmt(c) if not isinstance(c, str) else c for c in row) + " |"
        for row in rows
    ]
    return lines + [""]


def _rate_row(name: str, rate: dict[str, Any]) -> list[Any]:
    return [
        name,
        rate["n"],
        rate["successes"],
        _pct(rate["rate"]),
        f"[{_pct(rate['ci_low'])}, {_pct(rate['ci_high'])}]",
    ]


def _describe_row(name: str, d: dict[str, Any]) -> list[Any]:
    return [name, d["count"], d["mean"], d["std"], d["min"], d["p50"], d["p95"], d["max"]]


DESCRIBE_HEADER = ("", "count", "mean", "std", "min", "p50", "p95", "max")


def render_markdown(report: dict[str, Any]) -> str:
    """The Markdown twin of report.json: the same figures in tables, plots and videos linked."""
    s = report["summary"]
    config = report.get("config") or {}
    level = int(round(100 * s["confidence"]))
    lines = ["# Evaluation report", ""]
    shown = {
        k: config[k]
        for k in (
            "task",
            "policy",
            "robot",
            "scene",
            "randomization",
            "seed",
            "split",
            "episodes",
            "latency_s",
        )
        if k in config
    }
    if shown:
        lines += _table(
            ("key", "value"),
            (
                [k, json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)]
                for k, v in shown.items()
            ),
        )
    rate_header = ("", "episodes", "successes", "success rate", f"{level}% Wilson interval")
    lines += ["## Success", ""]
    lines += _table(rate_header, [_rate_row("overall", s["overall"])])
    if s["overall"]["errors"]:
        lines += [
            f"{s['overall']['errors']} episode{'' if s['overall']['errors'] == 1 else 's'} ended with an error "
            f"and count{'s' if s['overall']['errors'] == 1 else ''} as failures.",
            "",
        ]
    for name, title in (
        ("by_task", "task"),
        ("by_program", "room program"),
        ("by_randomization", "randomization preset"),
    ):
        lines += [f"### By {title}", ""]
        lines += _table((title, *rate_header[1:]), (_rate_row(k, v) for k, v in s[name].items()))
    lines += ["## Episode length (steps) and time to success", ""]
    lengths = s["episode_length"]
    lines += _table(
        DESCRIBE_HEADER,
        [
            _describe_row("length, all", lengths["all"]),
            _describe_row("length, successes", lengths["success"]),
            _describe_row("length, failures", lengths["failure"]),
            _describe_row("time to success (s)", s["time_to_success_s"]),
        ],
    )
    lines += ["## Safety", ""]
    safety = s["safety"]
    lines += _table(
        (*DESCRIBE_HEADER, "total", "episodes with any"),
        [
            [*_describe_row("peak contact force (N)", safety["peak_contact_force_n"]), "-", "-"],
            [
                *_describe_row("collisions", safety["collisions"]),
                safety["collisions"]["total"],
                safety["collisions"]["episodes_with_any"],
            ],
            [
                *_describe_row("joint limit hits", safety["joint_limit_hits"]),
                safety["joint_limit_hits"]["total"],
                safety["joint_limit_hits"]["episodes_with_any"],
            ],
        ],
    )
    lines += ["## Policy latency (wall time of act, milliseconds)", ""]
    lat = s["latency"]["act_time_s"]
    ms = [None if lat[k] is None else 1000.0 * lat[k] for k in ("mean", "p50", "p95", "p99", "max")]
    lines += _table(("", "calls", "mean", "p50", "p95", "p99", "max"), [["act", lat["count"], *ms]])
    failures = s["failures"]
    lines += ["## Failures", ""]
    if failures["count"]:
        lines += _table(
            ("cause", "episodes"), ([cause, count] for cause, count in failures["by_cause"].items())
        )
        rows = [
            [
                f["episode_index"],
                str(f["task"]),
                str(f["program"]),
                str(f["randomization"]),
                f["cause"],
                (str(f["error"] or "").splitlines() or [""])[0][:120].replace("|", "\\|"),
            ]
            for f in failures["episodes"][:MAX_FAILURE_ROWS_MD]
        ]
        lines += _table(("episode", "task", "program", "randomization", "cause", "error"), rows)
        if failures["count"] > MAX_FAILURE_ROWS_MD:
            lines += [f"({failures['count'] - MAX_FAILURE_ROWS_MD} more in report.json)", ""]
    else:
        lines += ["None.", ""]
    if report.get("plots"):
        lines += ["## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in report["plots"]] + [""]
    if report.get("videos"):
        lines += ["## Videos", ""] + [f"- [{Path(v).name}]({v})" for v in report["videos"]] + [""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Plots (matplotlib's object API on an Agg canvas: no pyplot global state, no display)


def _new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def plot_success_by_task(summary: dict[str, Any], path: Path) -> None:
    """Bar per task (and overall) with its Wilson interval as error bars."""
    rows = list(summary["by_task"].items()) + [("overall", summary["overall"])]
    names = [name for name, _ in rows]
    rates = np.array([r["rate"] if r["rate"] is not None else 0.0 for _, r in rows])
    err = np.array(
        [
            [rate - r["ci_low"], r["ci_high"] - rate]
            for rate, (_, r) in zip(rates, rows, strict=True)
        ]
    ).T
    fig = _new_figure(max(4.0, 1.0 + 0.9 * len(rows)), 3.5)
    ax = fig.add_subplot(1, 1, 1)
    colors = ["tab:blue"] * (len(rows) - 1) + ["tab:gray"]
    ax.bar(names, rates, yerr=err, capsize=4, color=colors)
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel("success rate")
    ax.set_title(f"Success by task ({int(round(100 * summary['confidence']))}% Wilson intervals)")
    for i, (_, r) in enumerate(rows):
        ax.text(i, 0.02, f"n={r['n']}", ha="center", va="bottom", fontsize=8, color="white")
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})


def plot_episode_lengths(results: Sequence[dict[str, Any]], path: Path) -> None:
    """Histogram of episode lengths, successes and failures stacked."""
    ok = [r["length"] for r in results if r.get("length") is not None and _succeeded(r)]
    bad = [r["length"] for r in results if r.get("length") is not None and not _succeeded(r)]
    fig = _new_figure(5.0, 3.5)
    ax = fig.add_subplot(1, 1, 1)
    if ok or bad:
        top = max(ok + bad)
        bins = np.linspace(0, max(top, 1), min(30, max(top, 1)) + 1)
        ax.hist(
            [ok, bad],
            bins=bins,
            stacked=True,
            label=["success", "failure"],
            color=["tab:green", "tab:red"],
        )
        ax.legend()
    ax.set_xlabel("episode length (steps)")
    ax.set_ylabel("episodes")
    ax.set_title("Episode length")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})


# --------------------------------------------------------------------------------------------
# Writing


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_report(
    results: Sequence[dict[str, Any]],
    out_dir: str | Path,
    config: dict[str, Any] | None = None,
    videos: Sequence[str | Path] = (),
    confidence: float = 0.95,
    plots: bool = True,
) -> dict[str, Any]:
    """Write report.json, report.md and the PNG plots into `out_dir`; returns the report dict.

    report.json holds {version, config, summary, episodes, plots, videos}; `episodes` keeps the
    input results so a report can be recomputed or compared later. Video paths are stored
    relative to `out_dir` when they lie inside it. Each file is written whole (a temporary name,
    then renamed) and report.json last, so a folder with a report.json holds a complete report.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(results, confidence)
    plot_files: list[str] = []
    if plots:
        plot_success_by_task(summary, out / SUCCESS_PLOT)
        plot_episode_lengths(results, out / LENGTH_PLOT)
        plot_files = [SUCCESS_PLOT, LENGTH_PLOT]
    video_refs = []
    for v in videos:
        p = Path(v)
        try:
            video_refs.append(str(p.resolve().relative_to(out.resolve())))
        except ValueError:
            video_refs.append(str(p))
    report = _jsonable(
        {
            "version": REPORT_VERSION,
            "config": dict(config or {}),
            "summary": summary,
            "episodes": sorted(
                results, key=lambda r: (r.get("episode_index") is None, r.get("episode_index", 0))
            ),
            "plots": plot_files,
            "videos": video_refs,
        }
    )
    _write_text_atomic(out / REPORT_MD, render_markdown(report) + "\n")
    _write_text_atomic(out / REPORT_JSON, json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a report.json (given the file or its folder)."""
    from simfarm.errors import ConfigError

    p = Path(path)
    if p.is_dir():
        p = p / REPORT_JSON
    if not p.is_file():
        raise ConfigError(
            f"no evaluation report at {p}; expected a folder written by write_report (with {REPORT_JSON})"
        )
    try:
        report = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p} is not valid JSON: {exc}") from exc
    if not isinstance(report, dict) or "summary" not in report:
        raise ConfigError(f"{p} is not a simfarm evaluation report (no 'summary' key)")
    return report
