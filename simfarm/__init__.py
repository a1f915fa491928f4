"""simfarm: a simulation data-generation farm for robot learning."""

import os
from importlib.metadata import PackageNotFoundError, version

# Offscreen rendering through EGL (Mesa on CPUs, NVIDIA on GPUs) unless the user chose otherwise.
# Set here, before any submodule imports mujoco, because MuJoCo reads it once at import.
os.environ.setdefault("MUJOCO_GL", "egl")

try:
    __version__ = version("simfarm")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+src"

__all__ = ["__version__"]
