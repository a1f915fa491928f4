import os

# Offscreen rendering on Mesa (CPU) or NVIDIA, before mujoco is imported anywhere.
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
