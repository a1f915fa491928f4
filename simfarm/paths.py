"""Where simfarm's data trees (procgen/, scenes/, configs/) live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from simfarm.errors import ConfigError


def data_root() -> Path:
    """The folder holding procgen/, scenes/ and configs/.

    Order: $SIMFARM_ROOT, the source checkout beside the package (editable installs, CI),
    then <prefix>/share/simfarm (a wheel install such as the Docker image).
    """
    candidates = []
    if os.environ.get("SIMFARM_ROOT"):
        candidates.append(Path(os.environ["SIMFARM_ROOT"]))
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
