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

    interrupted = []  # once an evaluation is interrupted, the rest of a `-m` sweep does not start

    def job(cfg) -> int:
        import sys

        from simfarm.farm.execute import EXIT_INTERRUPTED, JobInterrupted

        if interrupted:
            print(f"simfarm eval: not started (an earlier evaluation was interrupted): output={cfg.get('output')}", file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED
        try:
            run_eval(cfg)
        except JobInterrupted as exc:
            interrupted.append(True)
            print(f"simfarm eval: {exc}", file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED
        except KeyboardInterrupt:  # a second Ctrl-C, or one before the evaluation's own handler was set
            interrupted.append(True)
            print("simfarm eval: interrupted", file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED
        return 0

    return hydra_main("eval", argv, job)
