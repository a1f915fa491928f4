"""`simfarm dataset info|validate|plot|replay PATH [...]`.

    simfarm dataset info PATH [--json]
    simfarm dataset validate PATH [--json] [--no-stats]
    simfarm dataset plot PATH out=DIR
    simfarm dataset replay PATH [...]        (simfarm.dataset.replay)
"""

from __future__ import annotations

import importlib
import json
import sys


def main(argv: list[str]) -> int:
    """Dispatch a dataset subcommand; returns the exit code (0 ok, 1 invalid dataset, 2 usage)."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "replay":
        return int(importlib.import_module("simfarm.dataset.replay").main(rest) or 0)
    if command not in ("info", "validate", "plot"):
        print(f"simfarm dataset: unknown subcommand {command!r}; accepted: info, validate, plot, replay", file=sys.stderr)
        return 2
    flags = {a for a in rest if a.startswith("--")}
    keys = dict(a.split("=", 1) for a in rest if "=" in a and not a.startswith("--"))
    paths = [a for a in rest if not a.startswith("--") and "=" not in a]
    if len(paths) != 1:
        print(f"simfarm dataset {command}: expected one PATH, got {paths}", file=sys.stderr)
        return 2
    path = paths[0]
    if command == "info":
        from simfarm.dataset.info import dataset_info, format_info

        info = dataset_info(path)
        print(json.dumps(info, indent=2) if "--json" in flags else format_info(info))
        return 0
    if command == "validate":
        from simfarm.dataset.validate import validate

        problems = validate(path, check_stats="--no-stats" not in flags)
        if "--json" in flags:
            print(json.dumps({"path": path, "valid": not problems, "problems": problems}, indent=2))
        elif problems:
            print(f"{path}: INVALID ({len(problems)} problem(s))")
            for p in problems:
                print(f"  - {p}")
        else:
            print(f"{path}: valid")
        return 1 if problems else 0
    from simfarm.dataset.plot import plot_dataset

    out = keys.get("out")
    if not out:
        print("simfarm dataset plot: out=DIR is required (where the PNGs go)", file=sys.stderr)
        return 2
    for p in plot_dataset(path, out):
        print(p)
    return 0
