"""Keep third-party start-up chatter out of simfarm's logs.

`import mujoco` with MUJOCO_GL=egl (or osmesa) imports PyOpenGL, whose `OpenGL.acceleratesupport`
logs "No OpenGL_accelerate module loaded" at INFO when the optional C speed-ups are not installed
(simfarm does not need them: it makes no per-frame PyOpenGL calls). The `simfarm` command logs at
INFO, so that line used to open every rendering command. This module drops exactly that record at
its logger, before PyOpenGL is imported: simfarm's own INFO logs, PyOpenGL's other records and
every warning still go through. `install()` is idempotent and cheap; call it before the first
`import mujoco`.
"""

from __future__ import annotations

import logging

ACCELERATE_LOGGER = "OpenGL.acceleratesupport"


class _DropMissingAccelerate(logging.Filter):
    """Drops PyOpenGL's INFO record that its optional OpenGL_accelerate module is absent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno < logging.WARNING and str(record.msg).startswith("No OpenGL_accelerate module loaded"))


def install() -> None:
    """Attach the filter to PyOpenGL's logger (once per process)."""
    logger = logging.getLogger(ACCELERATE_LOGGER)
    if not any(isinstance(f, _DropMissingAccelerate) for f in logger.filters):
        logger.addFilter(_DropMissingAccelerate())
