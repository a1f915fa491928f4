"""`simfarm dataset info|validate|plot|replay PATH [...]`.

    simfarm dataset info PATH [--json]
    simfarm dataset validate PATH [--json] [--no-stats]
    simfarm dataset plot PATH out=DIR
    simfarm dataset replay PATH [episode=N] [tolerance=X] [observations=true]

PATH is a LeRobot dataset folder (meta/info.json) or an HDF5 dataset (a folder with data.hdf5, or the file).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field

from simfarm.checks import did_you_mean
from simfarm.errors import ConfigError


@dataclass(frozen=True)
class Usage:
    """What one subcommand accepts besides its PATH."""

    flags: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    line: str = ""


SUBCOMMANDS = {
    "info": Usage(flags=("--json",), line="simfarm dataset info PATH [--json]"),
    "validate": Usage(flags=("--json", "--no-stats"), line="simfarm dataset validate PATH [--json] [--no-stats]"),
    "plot": Usage(keys=("out",), required=("out",), line="simfarm dataset plot PATH out=DIR"),
    "replay": Usage(keys=("episode", "tolerance", "observations"),
                    line="simfarm dataset replay PATH [episode=N] [tolerance=X] [observations=true]"),
}


@dataclass
class Args:
    path: str
    flags: set[str] = field(default_factory=set)
    keys: dict[str, str] = field(default_factory=dict)


def parse_args(command: str, argv: list[str]) -> Args:
    """One PATH, the subcommand's flags and KEY=VALUE keys; anything else is a one-line ConfigError."""
    usage = SUBCOMMANDS[command]
    where = f"dataset {command}"
    accepted = ", ".join([*usage.flags, *(f"{k}=" for k in usage.keys)]) or "nothing but PATH"
    flags: set[str] = set()
    keys: dict[str, str] = {}
    paths: list[str] = []
    for arg in argv:
        if arg.startswith("-") and len(arg) > 1:
            name = arg.partition("=")[0]
            if name not in usage.flags:
                raise ConfigError(f"{where}: unknown flag {arg!r}{did_you_mean(name, usage.flags)}; accepted: {accepted}")
            if "=" in arg:
                raise ConfigError(f"{where}: flag {name} takes no value, got {arg!r}; give {name} alone or leave it out")
            flags.add(name)
        elif "=" in arg:
            key, _, value = arg.partition("=")
            if key not in usage.keys:
                raise ConfigError(
                    f"{key}: unknown key {key!r} of {where}{did_you_mean(key, usage.keys)}; accepted: {accepted}"
                )
            if key in keys:
                raise ConfigError(f"{where}: key {key!r} given twice")
            keys[key] = value
        else:
            paths.append(arg)
    if not paths:
        raise ConfigError(
            f"{where}: PATH is required (a LeRobot dataset folder or an HDF5 dataset); usage: {usage.line}"
        )
    if len(paths) > 1:
        raise ConfigError(f"{where}: expected one PATH, got extra argument(s) {paths[1:]}; usage: {usage.line}")
    for key in usage.required:
        if not keys.get(key):
            raise ConfigError(f"{where}: {key}= is required; usage: {usage.line}")
    return Args(paths[0], flags, keys)


def main(argv: list[str]) -> int:
    """Dispatch a dataset subcommand; returns the exit code (0 ok, 1 invalid dataset, 2 usage)."""
    from simfarm.paths import data_root

    if argv and argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0
    if not argv:
        raise ConfigError(f"dataset: a subcommand is required: {', '.join(SUBCOMMANDS)} (simfarm dataset --help shows their usage)")
    data_root()  # a wrong SIMFARM_ROOT fails every command the same way
    command, rest = argv[0], argv[1:]
    if command not in SUBCOMMANDS:
        raise ConfigError(
            f"dataset: unknown subcommand {command!r}{did_you_mean(command, SUBCOMMANDS)}; accepted: {', '.join(SUBCOMMANDS)}"
        )
    if any(a in ("-h", "--help") for a in rest):
        print(f"usage: {SUBCOMMANDS[command].line}", file=sys.stderr)
        return 0
    args = parse_args(command, rest)
    if command == "replay":
        from simfarm.dataset.replay import run_replay

        return run_replay(args)
    path = args.path
    if command == "info":
        from simfarm.dataset.info import dataset_info, format_info

        info = dataset_info(path)
        print(json.dumps(info, indent=2) if "--json" in args.flags else format_info(info))
        return 0
    if command == "validate":
        from simfarm.dataset.reader import detect_format
        from simfarm.dataset.validate import validate

        detect_format(path)  # not a dataset at all (or no such path) is a usage error, not an invalid dataset
        problems = validate(path, check_stats="--no-stats" not in args.flags)
        if "--json" in args.flags:
            print(json.dumps({"path": path, "valid": not problems, "problems": problems}, indent=2))
        elif problems:
            print(f"{path}: INVALID ({len(problems)} problem(s))")
            for p in problems:
                print(f"  - {p}")
        else:
            print(f"{path}: valid")
        return 1 if problems else 0
    from simfarm.dataset.plot import plot_dataset

    for p in plot_dataset(path, args.keys["out"]):
        print(p)
    return 0
