"""Statistics of evaluation reports: binomial intervals, differences of proportions, summaries.

Pure functions of counts and lists of numbers (no simulation, no I/O).

- Wilson score interval for one success rate (Wilson 1927; Newcombe 1998, method 3): good
  coverage at small n and at 0 % / 100 %, where the Wald interval collapses.
- Newcombe's hybrid score interval for a difference of two independent rates (Newcombe 1998,
  "Interval estimation for the difference between independent proportions", method 10), built
  from the two Wilson intervals.
- The pooled two-proportion z-test for the same question, as a p-value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from scipy.stats import norm

from simfarm.errors import ConfigError


def z_value(confidence: float = 0.95) -> float:
    """The two-sided standard normal quantile: 1.959964 for 95 %."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ConfigError(f"need 0 <= successes <= n, got successes={successes}, n={n}")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (low, high) for the rate successes / n; (0, 1) when n is 0."""
    _check_counts(successes, n)
    if n == 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    # Exact bounds at 0 and n (rounding would otherwise leave 1e-17 instead of 0).
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def newcombe_interval(
    successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for the difference rate_b - rate_a."""
    _check_counts(successes_a, n_a)
    _check_counts(successes_b, n_b)
    if n_a == 0 or n_b == 0:
        return -1.0, 1.0
    p_a, p_b = successes_a / n_a, successes_b / n_b
    l_a, u_a = wilson_interval(successes_a, n_a, confidence)
    l_b, u_b = wilson_interval(successes_b, n_b, confidence)
    diff = p_b - p_a
    low = diff - math.sqrt((p_b - l_b) ** 2 + (u_a - p_a) ** 2)
    high = diff + math.sqrt((u_b - p_b) ** 2 + (p_a - l_a) ** 2)
    return max(-1.0, low), min(1.0, high)


def two_proportion_z_test(
    successes_a: int, n_a: int, successes_b: int, n_b: int
) -> tuple[float, float]:
    """Pooled two-proportion z-test of rate_a == rate_b: (z for b - a, two-sided p-value).

    When both rates are 0 % or both 100 % there is no evidence of a difference: (0, 1).
    """
    _check_counts(successes_a, n_a)
    _check_counts(successes_b, n_b)
    if n_a == 0 or n_b == 0:
        return 0.0, 1.0
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    if se == 0.0:
        return 0.0, 1.0
    z = (successes_b / n_b - successes_a / n_a) / se
    return z, float(2.0 * norm.sf(abs(z)))


def rate_summary(successes: int, n: int, confidence: float = 0.95) -> dict[str, float | int | None]:
    """{successes, n, rate, ci_low, ci_high} for a report table (rate None when n is 0)."""
    low, high = wilson_interval(successes, n, confidence)
    return {
        "successes": successes,
        "n": n,
        "rate": successes / n if n else None,
        "ci_low": low,
        "ci_high": high,
    }


def _percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), q in [0, 100]."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def describe(values: Iterable[float]) -> dict[str, float | int | None]:
    """count, mean, std (population), min, p50, p95, p99, max of the finite values (None if empty)."""
    xs = sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))
    if not xs:
        return {
            "count": 0,
            "mean": None,
            "std": None,
            "min": None,
            "p50": None,
            "p95": None,
            "p99": None,
            "max": None,
        }
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
    return {
        "count": len(xs),
        "mean": mean,
        "std": std,
        "min": xs[0],
        "p50": _percentile(xs, 50),
        "p95": _percentile(xs, 95),
        "p99": _percentile(xs, 99),
        "max": xs[-1],
    }
