"""`simfarm eval [KEY=VALUE ...]` and `simfarm eval compare A B`."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if argv and argv[0] == "compare":
        from simfarm.evaluation.compare import compare_main

        return compare_main(argv[1:])
    from simfarm.config import hydra_main
    from simfarm.evaluation.runner import run_eval

    def job(cfg) -> int:
        run_eval(cfg)
        return 0

    return hydra_main("eval", argv, job)
