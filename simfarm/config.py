"""Job configuration: Hydra composition of `configs/`, shorthand values, validation, content hash.

Every command-line key is a Hydra override (`task=push episodes=100`, `-m seed=0,1`). A few
values are shorthands for a group plus a parameter, because their value is open-ended:

    robot=menagerie:franka_emika_panda   -> robot=menagerie robot.name=menagerie:franka_emika_panda
    policy=python:my.module:Policy       -> policy=python policy.spec=python:my.module:Policy
    policy=onnx:/path/model.onnx         -> policy=onnx policy.spec=onnx:/path/model.onnx
    policy=remote:ws://127.0.0.1:8765    -> policy=remote policy.spec=remote:ws://127.0.0.1:8765
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from simfarm.errors import ConfigError, SimfarmError
from simfarm.paths import configs_dir

log = logging.getLogger(__name__)

GROUPS = ("task", "robot", "scene", "randomization", "policy", "writer", "cluster")
SHORTHANDS = {"robot": ("menagerie",), "policy": ("python", "onnx", "remote")}
OBS_MODES = ("state", "rgb", "rgb+state")
KEEP = ("all", "success")
# Keys that say where or how fast a job runs, not what it produces: left out of the config hash so
# the same data gets the same hash on a laptop and on a cluster.
NON_CONTENT_KEYS = ("output", "overwrite", "workers", "cluster", "max_failures")


def expand_shorthands(overrides: Sequence[str]) -> list[str]:
    """Rewrite `group=prefix:rest` shorthands into a group choice plus its parameter."""
    out: list[str] = []
    for item in overrides:
        key, sep, value = item.partition("=")
        prefix = value.split(":", 1)[0]
        if sep and key in SHORTHANDS and ":" in value and prefix in SHORTHANDS[key]:
            param = "name" if key == "robot" else "spec"
            out += [f"{key}={prefix}", f"{key}.{param}={value}"]
        else:
            out.append(item)
    return out


def compose(config_name: str = "generate", overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `configs/<config_name>.yaml` with overrides (the programmatic twin of the CLI)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    overrides = expand_shorthands(overrides)
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
            cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
    except Exception as exc:  # Hydra's own errors: unknown keys, missing group options, bad syntax
        raise _as_config_error(exc, config_name) from exc
    # Hydra's runtime section is not part of a job's content.
    with _open(cfg):
        cfg.pop("hydra", None)
    return cfg


def _as_config_error(exc: Exception, config_name: str) -> ConfigError:
    # Hydra appends its search path to missing-option errors: noise for a user.
    msg = str(exc).split("Config search path")[0].strip()
    if "Could not override" in msg or "Key '" in msg and "not in struct" in msg:
        base = OmegaConf.load(configs_dir() / f"{config_name}.yaml")
        keys = sorted({k for k in base if k != "defaults"} | set(GROUPS))
        return ConfigError(f"{msg.splitlines()[0]}\naccepted keys: {', '.join(keys)}")
    return ConfigError(msg)


class _open:
    """Temporarily lift OmegaConf's struct flag (Hydra composes configs in struct mode)."""

    def __init__(self, cfg: DictConfig):
        self.cfg = cfg

    def __enter__(self):
        OmegaConf.set_struct(self.cfg, False)

    def __exit__(self, *exc):
        OmegaConf.set_struct(self.cfg, True)


def to_dict(cfg: DictConfig | dict) -> dict[str, Any]:
    """The resolved config as plain Python data (what crosses process boundaries)."""
    if isinstance(cfg, dict):
        return cfg
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def config_hash(cfg: DictConfig | dict) -> str:
    """sha256 of the canonical JSON of everything that determines the episodes' content."""
    data = {k: v for k, v in to_dict(cfg).items() if k not in NON_CONTENT_KEYS}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _require(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"{key}: {msg}")


def validate(cfg: DictConfig | dict) -> None:
    """Fail fast, before any worker starts, naming the key and the accepted values."""
    c = to_dict(cfg)
    _require(isinstance(c.get("seed"), int) and c["seed"] >= 0, "seed", f"must be an integer >= 0, got {c.get('seed')!r}")
    _require(isinstance(c.get("episodes"), int) and c["episodes"] >= 1, "episodes", f"must be an integer >= 1, got {c.get('episodes')!r}")
    for key in ("workers", "shard_size", "control_hz"):
        if key in c:
            _require(isinstance(c[key], int) and c[key] >= 1, key, f"must be an integer >= 1, got {c[key]!r}")
    if "max_failures" in c:
        _require(isinstance(c["max_failures"], int) and c["max_failures"] >= 0, "max_failures", f"must be an integer >= 0, got {c['max_failures']!r}")
    _require(c.get("obs_mode") in OBS_MODES, "obs_mode", f"got {c.get('obs_mode')!r}; accepted: {', '.join(OBS_MODES)}")
    _require(c.get("keep", "all") in KEEP, "keep", f"got {c.get('keep')!r}; accepted: {', '.join(KEEP)}")
    size = c.get("camera_size")
    _require(
        isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and 16 <= v <= 4096 for v in size),
        "camera_size",
        f"must be [height, width] with integers in 16..4096, got {size!r}",
    )
    _require(isinstance(c.get("cameras"), list), "cameras", f"must be a list of camera names, got {c.get('cameras')!r}")
    from simfarm.seeding import split_code

    split_code(c.get("split", "train"))
    for check in _component_checks():
        check(c)


def _component_checks() -> list[Callable[[dict], None]]:
    """Each stage's own validation of its part of the config (imported lazily: stages are optional)."""
    checks = []
    for module_name in (
        "simfarm.robots",
        "simfarm.scene",
        "simfarm.tasks",
        "simfarm.randomization",
        "simfarm.policies",
        "simfarm.writers",
        "simfarm.envs",
    ):
        try:
            module = __import__(module_name, fromlist=["validate_config"])
        except ImportError:
            continue
        check = getattr(module, "validate_config", None)
        if check is not None:
            checks.append(check)
    return checks


def hydra_main(config_name: str, argv: Sequence[str], job: Callable[[DictConfig], int | None]) -> int:
    """Run `job(cfg)` through Hydra's own entry point, so `-m` sweeps and `--cfg job` work.

    Hydra's logging and output folders are turned off: simfarm logs to stderr and writes only
    under the job's `output`.
    """
    import hydra

    argv = expand_shorthands(list(argv))
    extra = [
        "hydra.run.dir=.",
        "hydra.sweep.dir=.",
        "hydra.sweep.subdir=.",
        "hydra.output_subdir=null",
        "hydra/job_logging=none",
        "hydra/hydra_logging=none",
    ]
    codes: list[int] = []

    def _run(cfg: DictConfig) -> None:
        with _open(cfg):
            cfg.pop("hydra", None)
        try:
            codes.append(int(job(cfg) or 0))
        except SimfarmError as exc:
            print(f"simfarm: error: {exc}", file=sys.stderr)
            codes.append(2)

    main = hydra.main(config_path=str(configs_dir()), config_name=config_name, version_base="1.3")(_run)
    saved = sys.argv
    sys.argv = [f"simfarm-{config_name}", *argv, *extra]
    try:
        main()
    except SystemExit as exc:  # Hydra exits 1 on composition errors it has already printed
        return int(exc.code or 0) or 2
    finally:
        sys.argv = saved
    return max(codes, default=0)
