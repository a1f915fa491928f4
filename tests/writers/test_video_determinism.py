"""Lossy video is byte-reproducible: the same frames give the same mp4 whatever the process's heap.

A farm worker's heap history depends on which episodes it ran before, so an encoder that reads
memory it never wrote gives different bytes for the same frames in a 1-worker and a 2-worker job.
glibc's MALLOC_PERTURB_ fills fresh allocations with a chosen byte: the encodes below run in
processes whose uninitialised memory differs, and must still agree byte for byte. (x264's AVX-512
routines failed this on AVX-512 CPUs before simfarm capped x264 at AVX2.)
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from simfarm import config as C
from simfarm.rollout import EpisodeRunner

ENCODE = """
import hashlib, sys, numpy as np
from simfarm.writers.video import VideoEncoder
frames = np.load(sys.argv[1])
for cam in sorted(frames.files):
    enc = VideoEncoder(sys.argv[3] + cam + ".mp4", fps=10, height=96, width=96, codec_name=sys.argv[2], preset="auto")
    enc.write(frames[cam])
    enc.close()
    print(cam, hashlib.sha1(open(sys.argv[3] + cam + ".mp4", "rb").read()).hexdigest())
"""


@pytest.fixture(scope="module")
def rendered_frames(tmp_path_factory):
    """Rendered kitchen frames (synthetic patterns never exercised the faulty encoder paths)."""
    cfg = C.to_dict(C.compose("generate", ["scene=kitchen", "camera_size=[96,96]"]))
    runner = EpisodeRunner(cfg)
    try:
        ep = runner.run(8)
    finally:
        runner.close()
    path = tmp_path_factory.mktemp("frames") / "frames.npz"
    np.savez(path, **{cam: np.asarray(ep.images[cam])[:16] for cam in ep.images})
    return path


@pytest.mark.parametrize("codec", ["libx264", "libsvtav1"])
def test_same_frames_give_the_same_bytes_whatever_the_heap_holds(tmp_path, rendered_frames, codec):
    digests = {}
    for perturb in ("1", "77", "200"):
        env = {**os.environ, "MALLOC_PERTURB_": perturb}
        out = subprocess.run([sys.executable, "-c", ENCODE, str(rendered_frames), codec, str(tmp_path / f"p{perturb}_")],
                             capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        digests[perturb] = out.stdout
    assert len(set(digests.values())) == 1, digests
    assert digests["1"].count("\n") == 2  # both cameras encoded


def test_x264_is_capped_at_avx2_where_the_cpu_has_it(tmp_path):
    from simfarm.writers.video import VideoEncoder

    umath = np._core._multiarray_umath if hasattr(np, "_core") else np.core._multiarray_umath
    features = umath.__cpu_features__

    enc = VideoEncoder(tmp_path / "v.mp4", fps=10, height=32, width=32, codec_name="libx264")
    enc.abort()
    expected = "asm=AVX2" if features.get("AVX2") and features.get("FMA3") else None
    assert enc.options.get("x264-params") == expected
