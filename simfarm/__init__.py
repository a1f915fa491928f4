"""simfarm: a simulation data-generation farm for robot learning."""

import os
from importlib.metadata import PackageNotFoundError, version

# Offscreen rendering through EGL (Mesa on CPUs, NVIDIA on GPUs) unless the user chose otherwise.
# Set here, before any submodule imports mujoco, because MuJoCo reads it once at import.
os.environ.setdefault("MUJOCO_GL", "egl")

# `import mujoco` imports PyOpenGL, which logs "No OpenGL_accelerate module loaded" at INFO on
# import; drop that one record before any submodule imports mujoco (simfarm/_quiet.py).
from simfarm import _quiet  # noqa: E402

_quiet.install()

try:
    __version__ = version("simfarm")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+src"

# Gymnasium's convention: importing the package registers its ids (`gym.make("simfarm/PickPlace-v0")`,
# `gym.register_envs(simfarm)`). Cheap: it reads task config names and imports no MuJoCo.
from simfarm.envs.registration import register_envs as _register_envs  # noqa: E402

_register_envs()

__all__ = ["__version__"]
