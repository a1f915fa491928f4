"""A worker hands freed heap memory back to the OS after each shard (glibc malloc_trim)."""

import subprocess
import sys

import pytest

SCRIPT = """
from simfarm.farm.shard import current_rss_mib, release_free_memory
blocks = [bytearray(64 * 1024) for _ in range(2000)]   # 125 MiB in heap-sized pieces, all touched
keep = blocks[-1]                                        # the top of the heap stays in use
del blocks
before = current_rss_mib()
release_free_memory()
after = current_rss_mib()
print(before, after)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's (Linux); elsewhere it is a no-op")
def test_release_free_memory_returns_a_freed_heap_to_the_os():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    before, after = map(float, out.stdout.split())
    # glibc keeps the freed 125 MiB (its top block is still live, so free() cannot shrink the heap)
    assert before - after > 80, (before, after)


def test_evaluation_workers_release_memory_every_n_episodes(monkeypatch):
    from simfarm.evaluation import runner
    from simfarm.farm import shard

    calls = []
    monkeypatch.setattr(shard, "release_free_memory", lambda: calls.append(1))
    monkeypatch.setattr(runner, "_episodes_since_release", 0)
    done = [runner.release_free_memory_every(3) for _ in range(7)]
    assert done == [False, False, True, False, False, True, False]
    assert len(calls) == 2


TUNE_SCRIPT = """
import ctypes, sys
import numpy as np
from simfarm.farm.shard import tune_malloc

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "tuned":
    assert tune_malloc() is True
mapped = []
for _ in range(3):  # a 4 MiB block, freed: the next one of the same size is mapped again only when tuned
    block = np.ones(4 << 20, np.uint8)
    mapped.append(libc.mallinfo2().hblks)
    del block
print(mapped[0], mapped[-1])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux); elsewhere tune_malloc is a no-op")
@pytest.mark.parametrize("mode", ["default", "tuned"])
def test_tuned_workers_map_large_blocks_instead_of_growing_the_heap(mode):
    out = subprocess.run([sys.executable, "-c", TUNE_SCRIPT, mode], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first, last = map(int, out.stdout.split())
    # glibc's default raises its mmap threshold once a mapped block is freed, so the same block then
    # comes from the heap (fewer mapped blocks); tuned, the threshold stays at 1 MiB.
    if mode == "tuned":
        assert last == first, (first, last)
    else:
        assert last < first, (first, last)


@pytest.mark.parametrize("compact", [True, False])
def test_workers_tune_malloc_only_when_cluster_compact_heap_is_on(monkeypatch, compact):
    from simfarm.farm import execute, shard

    calls = []
    monkeypatch.setattr(shard, "tune_malloc", lambda: calls.append(1) or True)
    execute.prepare_worker(pin_cpu=False, compact_heap=compact)
    assert calls == ([1] if compact else [])
    assert execute.ClusterOptions.from_config({}).compact_heap is execute.COMPACT_HEAP_DEFAULT
