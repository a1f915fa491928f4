"""Where simfarm's data trees (procgen/, scenes/, configs/) live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from simfarm.errors import ConfigError


def data_root() -> Path:
    """The folder holding procgen/, scenes/ and configs/.

    Order: $SIMFARM_ROOT, the source checkout beside the package (editable installs, CI),
    then <prefix>/share/simfarm (a wheel install such as the Docker image). A SIMFARM_ROOT that
    is set is used or refused, never skipped: silently reading another tree's configs would
    generate other data than asked for.
    """
    env_root = os.environ.get("SIMFARM_ROOT", "")
    if env_root:
        root = Path(os.path.expanduser(env_root))
        missing = [d for d in ("procgen", "configs") if not (root / d).is_dir()]
        if missing:
            state = "does not exist" if not root.exists() else "is not a folder" if not root.is_dir() else f"lacks {', '.join(d + '/' for d in missing)}"
            raise ConfigError(
                f"SIMFARM_ROOT={env_root} {state}; it must be a folder holding procgen/ and configs/ "
                "(a simfarm source checkout or <prefix>/share/simfarm), or unset it"
            )
        return root
    candidates = []
    candidates.append(Path(__file__).resolve().parent.parent)
    candidates.append(Path(sys.prefix) / "share" / "simfarm")
    for root in candidates:
        if (root / "procgen").is_dir() and (root / "configs").is_dir():
            return root
    raise ConfigError(
        "cannot find simfarm's data folders (procgen/, configs/); looked in "
        + ", ".join(str(c) for c in candidates)
        + ". Set SIMFARM_ROOT to the source checkout."
    )


def procgen_dir() -> Path:
    return data_root() / "procgen"


def scenes_dir() -> Path:
    return data_root() / "scenes"


def configs_dir() -> Path:
    return data_root() / "configs"


def cache_dir() -> Path:
    """simfarm's cache folder for generated assets (textures, user meshes): $SIMFARM_CACHE, else
    ~/.cache/simfarm. Never committed; safe to delete (everything in it is regenerated)."""
    env = os.environ.get("SIMFARM_CACHE", "")
    return Path(os.path.expanduser(env)) if env else Path.home() / ".cache" / "simfarm"
