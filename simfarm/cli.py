"""The `simfarm` command: dispatches to each stage's own command module.

    simfarm generate [KEY=VALUE ...]
    simfarm eval [KEY=VALUE ...] | simfarm eval compare A B
    simfarm scene sample|gallery [KEY=VALUE ...]
    simfarm dataset info|validate|replay|plot PATH [KEY=VALUE ...]
    simfarm serve-policy [KEY=VALUE ...]
    simfarm list robots|tasks|scenes [--json]
    simfarm robot show NAME out=PATH.png

Logs go to stderr; stdout carries only the command's data (e.g. SceneSpec JSON), so it pipes.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from simfarm.errors import SimfarmError

# command -> "module:function"; each function takes the remaining argv and returns an exit code.
COMMANDS = {
    "generate": "simfarm.farm.cli:generate_main",
    "eval": "simfarm.evaluation.cli:main",
    "scene": "simfarm.scene.cli:main",
    "dataset": "simfarm.dataset.cli:main",
    "serve-policy": "simfarm.policies.cli:serve_main",
    "list": "simfarm.listing:main",
    "robot": "simfarm.robots.show:main",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MUJOCO_GL", "egl")
    logging.basicConfig(
        level=os.environ.get("SIMFARM_LOG", "INFO"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command in ("--version", "version"):
        from simfarm import __version__

        print(__version__)
        return 0
    if command not in COMMANDS:
        from simfarm.checks import did_you_mean

        print(f"simfarm: error: unknown command {command!r}{did_you_mean(command, COMMANDS)}; accepted: {', '.join(COMMANDS)}",
              file=sys.stderr)
        return 2
    module_name, func_name = COMMANDS[command].split(":")
    try:
        from simfarm.paths import data_root

        data_root()  # a SIMFARM_ROOT that is set but wrong fails here, for every command
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(rest) or 0)
    except SimfarmError as exc:
        print(f"simfarm {command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `simfarm list robots | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:  # commands with work to resume say more themselves (farm, eval)
        print(f"simfarm {command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
