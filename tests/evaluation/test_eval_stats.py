"""Specifications of the interval maths against published values (Newcombe 1998, Stat. Med. 17)."""

from __future__ import annotations

import pytest
from scipy.stats import chi2_contingency

from simfarm.errors import ConfigError
from simfarm.evaluation.stats import (
    describe,
    newcombe_interval,
    two_proportion_z_test,
    wilson_interval,
    z_value,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe 1998 ("Two-sided confidence intervals for the single proportion"), method 3.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # Textbook values (e.g. Agresti & Coull 1998; any Wilson calculator).
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 100, 0.7222, 0.8749),
    ],
)
def test_wilson_interval_matches_published_values(successes, n, low, high):
    got = wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_edges_and_confidence():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    narrow, wide = wilson_interval(5, 10, 0.80), wilson_interval(5, 10, 0.99)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    with pytest.raises(ConfigError, match="successes"):
        wilson_interval(11, 10)
    with pytest.raises(ConfigError, match="confidence"):
        wilson_interval(1, 10, confidence=95)


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        # Newcombe 1998 ("Interval estimation for the difference between independent proportions"),
        # method 10, examples (a), (b), (d)-(h): difference p1 - p2, here B = p1 and A = p2.
        ((48, 80), (56, 70), 0.0524, 0.3339),
        ((3, 10), (9, 10), 0.1705, 0.8090),
        ((0, 29), (5, 56), -0.0381, 0.1926),
        ((0, 20), (0, 10), -0.1611, 0.2775),
        ((0, 10), (0, 10), -0.2775, 0.2775),
        ((0, 20), (10, 10), 0.6791, 1.0),
        ((0, 10), (10, 10), 0.6075, 1.0),
    ],
)
def test_newcombe_interval_matches_published_values(a, b, low, high):
    assert newcombe_interval(*a, *b) == pytest.approx((low, high), abs=5e-5)


def test_z_test_equals_pearson_chi_square_without_continuity_correction():
    # 56/70 vs 48/80: pooled p = 104/150, se = 0.075467, z = 0.2 / se = 2.6502.
    z, p = two_proportion_z_test(48, 80, 56, 70)
    assert z == pytest.approx(2.6502, abs=1e-4)
    chi2, p_chi2, _, _ = chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert z**2 == pytest.approx(chi2, rel=1e-9)
    assert p == pytest.approx(p_chi2, rel=1e-9)
    assert two_proportion_z_test(56, 70, 48, 80)[0] == pytest.approx(-z)


def test_z_test_degenerate_cases_show_no_difference():
    assert two_proportion_z_test(0, 10, 0, 10) == (0.0, 1.0)
    assert two_proportion_z_test(10, 10, 20, 20) == (0.0, 1.0)


def test_describe_uses_numpy_style_percentiles_and_ignores_missing_values():
    d = describe([1.0, 2.0, 3.0, 4.0, None, float("nan")])
    assert d["count"] == 4 and d["mean"] == 2.5 and d["min"] == 1.0 and d["max"] == 4.0
    assert d["p50"] == 2.5 and d["p95"] == pytest.approx(3.85)
    assert describe([])["mean"] is None
