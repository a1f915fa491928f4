"""Worker CPU pinning: each process claims a different free CPU, and a dead process's CPU frees up."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")

CLAIM = textwrap.dedent("""
    import os, sys
    from simfarm.farm.cpus import pin_to_free_cpu, pinned_cpu
    cpu = pin_to_free_cpu(sys.argv[1])
    assert pin_to_free_cpu(sys.argv[1]) == cpu == pinned_cpu()  # a process pins once
    print(cpu, sorted(os.sched_getaffinity(0)), flush=True)
    sys.stdin.readline()  # hold the claim until told to exit
""")


def _claim(lock_dir):
    p = subprocess.Popen([sys.executable, "-c", CLAIM, str(lock_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    cpu, _, mask = p.stdout.readline().strip().partition(" ")
    return p, (None if cpu == "None" else int(cpu)), mask


def test_processes_claim_distinct_cpus_and_a_dead_ones_cpu_is_free_again(tmp_path):
    cpus = sorted(os.sched_getaffinity(0))
    first, cpu1, mask1 = _claim(tmp_path)
    assert cpu1 == cpus[0] and mask1 == f"[{cpu1}]"  # pinned to exactly the claimed CPU
    second, cpu2, mask2 = _claim(tmp_path)
    try:
        if len(cpus) > 1:
            assert cpu2 == cpus[1] and mask2 == f"[{cpu2}]"
        else:  # nothing left: the second runs unpinned
            assert cpu2 is None
        first.kill()  # a killed worker's lock goes with it
        first.wait()
        third, cpu3, _ = _claim(tmp_path)
        assert cpu3 == cpu1
        third.communicate("\n")
    finally:
        second.communicate("\n")
        if first.poll() is None:
            first.kill()
