"""Specifications of write_report and compare_reports on synthetic per-episode results."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from simfarm.errors import ConfigError
from simfarm.evaluation.compare import compare_reports, format_comparison
from simfarm.evaluation.report import load_report, summarize, write_report
from simfarm.evaluation.stats import wilson_interval


def make_results(rates: dict[str, float], n_per_task: int, seed: int = 0) -> list[dict]:
    """Episodes whose success counts per task are exactly round(rate * n)."""
    rng = np.random.default_rng(seed)
    results, index = [], 0
    for task, rate in rates.items():
        k = round(rate * n_per_task)
        flags = [True] * k + [False] * (n_per_task - k)
        rng.shuffle(flags)
        for j, ok in enumerate(flags):
            length = int(rng.integers(20, 60)) if ok else 100
            results.append(
                {
                    "episode_index": index,
                    "task": task,
                    "program": ["kitchen", "office"][j % 2],
                    "randomization": ["light", "heavy"][j % 3 == 0],
                    "success": ok,
                    "length": length,
                    "time_to_success_s": length / 10 if ok else None,
                    "safety": {
                        "peak_contact_force_n": float(10 + j),
                        "collisions": j % 4,
                        "joint_limit_hits": int(j == 1),
                    },
                    "error": None,
                    "act_time_s": [0.001 * (1 + j % 3)] * 3,
                }
            )
            index += 1
    return results


def test_report_numbers_match_the_input_episodes(tmp_path):
    results = make_results({"pick_place": 0.7, "push": 0.4}, n_per_task=20)
    results[3]["error"] = (
        "episode 3 step 12: policy error: policy 'remote:ws://x' did not answer within 5 s"
    )
    results[3]["success"] = True  # an episode with an error never counts as a success
    report = write_report(
        results,
        tmp_path,
        config={"task": "pick_place", "policy": {"spec": "random"}, "seed": 3},
        videos=[tmp_path / "videos" / "episode_000000.mp4"],
    )
    s = report["summary"]
    successes = sum(r["success"] and not r["error"] for r in results)
    assert s["n_episodes"] == 40 and s["overall"]["successes"] == successes
    assert (s["overall"]["ci_low"], s["overall"]["ci_high"]) == pytest.approx(
        wilson_interval(successes, 40)
    )
    assert s["overall"]["errors"] == 1
    for task in ("pick_place", "push"):
        rows = [r for r in results if r["task"] == task]
        k = sum(r["success"] and not r["error"] for r in rows)
        assert s["by_task"][task]["successes"] == k and s["by_task"][task]["n"] == 20
        assert s["by_task"][task]["rate"] == pytest.approx(k / 20)
    assert sum(v["n"] for v in s["by_program"].values()) == 40
    assert set(s["by_randomization"]) == {"light", "heavy"}
    ok_lengths = [r["length"] for r in results if r["success"] and not r["error"]]
    assert s["episode_length"]["success"]["mean"] == pytest.approx(np.mean(ok_lengths))
    assert s["time_to_success_s"]["max"] == pytest.approx(max(ok_lengths) / 10)
    assert s["safety"]["collisions"]["total"] == sum(r["safety"]["collisions"] for r in results)
    assert s["safety"]["peak_contact_force_n"]["max"] == max(
        r["safety"]["peak_contact_force_n"] for r in results
    )
    assert s["latency"]["act_time_s"]["count"] == 120
    assert s["latency"]["act_time_s"]["p50"] == pytest.approx(
        np.percentile([t for r in results for t in r["act_time_s"]], 50)
    )
    assert s["failures"]["count"] == 40 - successes
    assert s["failures"]["by_cause"]["policy error"] == 1
    assert s["failures"]["by_cause"]["no success"] == 40 - successes - 1
    # The files: JSON round-trips, Markdown carries the same figures, plots are real PNGs.
    assert load_report(tmp_path)["summary"] == s
    md = (tmp_path / "report.md").read_text()
    pick = s["by_task"]["pick_place"]
    assert (
        f"| pick_place | 20 | {pick['successes']} | {100 * pick['rate']:.1f}% | [{100 * pick['ci_low']:.1f}%, {100 * pick['ci_high']:.1f}%] |"
        in md
    )
    assert "did not answer within 5 s" in md and "videos/episode_000000.mp4" in md
    for name in ("success_by_task.png", "episode_length.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.size[0] > 100
    assert report["videos"] == ["videos/episode_000000.mp4"]


def test_same_results_give_byte_identical_report_json(tmp_path):
    results = make_results({"push": 0.5}, n_per_task=10)
    write_report(results, tmp_path / "a", config={"seed": 0})
    write_report(list(reversed(results)), tmp_path / "b", config={"seed": 0})
    assert (tmp_path / "a" / "report.json").read_bytes() == (
        tmp_path / "b" / "report.json"
    ).read_bytes()
    assert (tmp_path / "a" / "report.md").read_bytes() == (
        tmp_path / "b" / "report.md"
    ).read_bytes()


def test_empty_and_all_failed_reports_still_write(tmp_path):
    report = write_report([], tmp_path / "empty")
    assert report["summary"]["overall"]["rate"] is None
    failed = [
        {
            "episode_index": 0,
            "task": "push",
            "success": False,
            "length": 5,
            "error": "TaskError: no receptacle",
        }
    ]
    s = write_report(failed, tmp_path / "failed")["summary"]
    assert s["failures"]["by_cause"] == {"TaskError": 1}
    assert json.loads((tmp_path / "failed" / "report.json").read_text())["summary"]["overall"][
        "ci_high"
    ] == pytest.approx(wilson_interval(0, 1)[1])


def test_compare_flags_a_significant_difference_only_when_there_is_one(tmp_path):
    write_report(
        make_results({"pick_place": 0.5, "push": 0.5}, 100, seed=1), tmp_path / "a", plots=False
    )
    write_report(
        make_results({"pick_place": 0.8, "push": 0.52}, 100, seed=2), tmp_path / "b", plots=False
    )
    cmp = compare_reports(tmp_path / "a", tmp_path / "b")
    assert cmp["by_task"]["pick_place"]["significant"] is True
    assert cmp["by_task"]["pick_place"]["difference"] == pytest.approx(0.3)
    assert cmp["by_task"]["pick_place"]["ci_low"] > 0
    assert cmp["by_task"]["push"]["significant"] is False
    assert cmp["by_task"]["push"]["ci_low"] < 0 < cmp["by_task"]["push"]["ci_high"]
    assert cmp["overall"]["significant"] is True  # 130/200 vs 100/200
    reverse = compare_reports(tmp_path / "b", tmp_path / "a")
    assert reverse["by_task"]["pick_place"]["difference"] == pytest.approx(-0.3)
    assert reverse["by_task"]["pick_place"]["ci_high"] < 0
    table = format_comparison(cmp)
    assert "| pick_place | 50.0% (50/100) | 80.0% (80/100) | +30.0% |" in table
    assert "yes, B better" in table and "| push |" in table and table.count("| no |") == 1
    same = compare_reports(tmp_path / "a", tmp_path / "a")
    assert not any(c["significant"] for c in [same["overall"], *same["by_task"].values()])


def test_compare_lists_tasks_present_in_only_one_report(tmp_path):
    write_report(make_results({"push": 0.5}, 10), tmp_path / "a", plots=False)
    write_report(make_results({"push": 0.5, "open_drawer": 0.2}, 10), tmp_path / "b", plots=False)
    cmp = compare_reports(tmp_path / "a", tmp_path / "b")
    assert cmp["only_in_b"] == ["open_drawer"] and list(cmp["by_task"]) == ["push"]
    assert "Tasks only in B: open_drawer" in format_comparison(cmp)
    with pytest.raises(ConfigError, match="no evaluation report"):
        compare_reports(tmp_path / "a", tmp_path / "missing")


def test_summarize_is_pure_and_sorts_by_episode_index():
    results = make_results({"push": 0.3}, 10)
    s = summarize(list(reversed(results)))
    assert [f["episode_index"] for f in s["failures"]["episodes"]] == sorted(
        f["episode_index"] for f in s["failures"]["episodes"]
    )
    assert results == make_results({"push": 0.3}, 10)


def test_compare_command_prints_the_table_and_writes_json(tmp_path, capsys):
    from simfarm.evaluation.compare import compare_main

    write_report(make_results({"push": 0.2}, 50), tmp_path / "a", plots=False)
    write_report(make_results({"push": 0.6}, 50), tmp_path / "b", plots=False)
    code = compare_main([str(tmp_path / "a"), str(tmp_path / "b"), f"out={tmp_path / 'cmp.json'}"])
    assert code == 0
    assert "| push | 20.0% (10/50) | 60.0% (30/50) | +40.0% |" in capsys.readouterr().out
    assert json.loads((tmp_path / "cmp.json").read_text())["by_task"]["push"]["significant"] is True
    with pytest.raises(ConfigError, match="usage"):
        compare_main([str(tmp_path / "a")])
