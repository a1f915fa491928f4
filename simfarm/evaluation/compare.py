"""Compare two evaluation reports: success-rate differences with a significance verdict.

The difference is B - A. It is called significant at the chosen level when Newcombe's hybrid
score interval for the difference excludes 0; the pooled two-proportion z-test's p-value is
reported beside it (the two agree except near the boundary).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simfarm.evaluation.report import load_report
from simfarm.evaluation.stats import newcombe_interval, two_proportion_z_test


def compare_rates(a: dict[str, Any], b: dict[str, Any], confidence: float = 0.95) -> dict[str, Any]:
    """Compare two `rate_summary` dicts ({successes, n, ...}) of reports A and B."""
    low, high = newcombe_interval(a["successes"], a["n"], b["successes"], b["n"], confidence)
    z, p_value = two_proportion_z_test(a["successes"], a["n"], b["successes"], b["n"])
    rate_a = a["successes"] / a["n"] if a["n"] else None
    rate_b = b["successes"] / b["n"] if b["n"] else None
    return {
        "a": {"successes": a["successes"], "n": a["n"], "rate": rate_a},
        "b": {"successes": b["successes"], "n": b["n"], "rate": rate_b},
        "difference": None if rate_a is None or rate_b is None else rate_b - rate_a,
        "ci_low": low,
        "ci_high": high,
        "z": z,
        "p_value": p_value,
        "significant": bool(a["n"] and b["n"] and (low > 0.0 or high < 0.0)),
    }


def compare_reports(
    a_dir: str | Path, b_dir: str | Path, confidence: float = 0.95
) -> dict[str, Any]:
    """Compare report A (baseline) with report B: overall and per task (tasks in both reports).

    Returns {a, b (paths), confidence, overall, by_task, only_in_a, only_in_b}.
    """
    report_a, report_b = load_report(a_dir), load_report(b_dir)
    sa, sb = report_a["summary"], report_b["summary"]
    tasks_a, tasks_b = sa.get("by_task", {}), sb.get("by_task", {})
    return {
        "a": str(a_dir),
        "b": str(b_dir),
        "confidence": confidence,
        "overall": compare_rates(sa["overall"], sb["overall"], confidence),
        "by_task": {
            t: compare_rates(tasks_a[t], tasks_b[t], confidence)
            for t in sorted(set(tasks_a) & set(tasks_b))
        },
        "only_in_a": sorted(set(tasks_a) - set(tasks_b)),
        "only_in_b": sorted(set(tasks_b) - set(tasks_a)),
    }


def _pct(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{100 * v:+.1f}%" if signed else f"{100 * v:.1f}%"


def format_comparison(comparison: dict[str, Any]) -> str:
    """A side-by-side Markdown table of a `compare_reports` result (printable as is)."""
    level = int(round(100 * comparison["confidence"]))
    header = (
        "",
        "A success",
        "B success",
        "B - A",
        f"{level}% interval (Newcombe)",
        "p (z-test)",
        "significant",
    )
    lines = [
        f"A: {comparison['a']}",
        f"B: {comparison['b']}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    rows = [("overall", comparison["overall"])] + list(comparison["by_task"].items())
    for name, c in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    f"{_pct(c['a']['rate'])} ({c['a']['successes']}/{c['a']['n']})",
                    f"{_pct(c['b']['rate'])} ({c['b']['successes']}/{c['b']['n']})",
                    _pct(c["difference"], signed=True),
                    f"[{_pct(c['ci_low'], signed=True)}, {_pct(c['ci_high'], signed=True)}]",
                    f"{c['p_value']:.3g}",
                    ("yes, B better" if c["ci_low"] > 0 else "yes, B worse")
                    if c["significant"]
                    else "no",
                ]
            )
            + " |"
        )
    for side in ("a", "b"):
        if comparison[f"only_in_{side}"]:
            lines.append(
                f"\nTasks only in {side.upper()}: {', '.join(comparison[f'only_in_{side}'])}"
            )
    return "\n".join(lines)


def compare_main(argv: list[str]) -> int:
    """`simfarm eval compare A B [confidence=0.95] [out=PATH.json]`: prints the table on stdout.

    Exit code 0 whatever the verdict (a significant difference is a finding, not a failure).
    """
    import json

    from simfarm.errors import ConfigError

    paths = [a for a in argv if "=" not in a]
    keys = dict(a.split("=", 1) for a in argv if "=" in a)
    unknown = sorted(set(keys) - {"confidence", "out"})
    if len(paths) != 2 or unknown:
        raise ConfigError(
            f"usage: simfarm eval compare A_DIR B_DIR [confidence=0.95] [out=PATH.json]; "
            f"got paths {paths} and unknown keys {unknown}"
        )
    try:
        confidence = float(keys.get("confidence", 0.95))
    except ValueError as exc:
        raise ConfigError(
            f"confidence must be a number in (0, 1), got {keys['confidence']!r}"
        ) from exc
    comparison = compare_reports(paths[0], paths[1], confidence)
    print(format_comparison(comparison))
    if "out" in keys:
        Path(keys["out"]).write_text(json.dumps(comparison, indent=2, sort_keys=True) + "\n")
    return 0
