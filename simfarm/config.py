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
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from simfarm.errors import ConfigError, SimfarmError
from simfarm.paths import configs_dir

log = logging.getLogger(__name__)

GROUPS = ("task", "robot", "scene", "randomization", "policy", "writer", "cluster")
# `group=prefix:rest` shorthands: the group's parameter that takes the whole value. A prefix is a
# shorthand when configs/<group>/<prefix>.yaml exists (policy=onnx:m.onnx, policy=lerobot:ckpt,
# robot=menagerie:franka_emika_panda), so a new policy source with its YAML needs no edit here.
SHORTHANDS = {"robot": "name", "policy": "spec"}
KEEP = ("all", "success")
# Keys that say where or how fast a job runs, not what it produces: left out of the config hash so
# the same data gets the same hash on a laptop and on a cluster.
NON_CONTENT_KEYS = ("output", "overwrite", "workers", "cluster", "max_failures")
# Keys simfarm itself adds to a resolved config (never typed by a user).
INTERNAL_KEYS = ("randomization_name",)


def expand_shorthands(overrides: Sequence[str]) -> list[str]:
    """Rewrite `group=prefix:rest` shorthands into a group choice plus its parameter."""
    out: list[str] = []
    for item in overrides:
        key, sep, value = item.partition("=")
        prefix = value.split(":", 1)[0]
        if (sep and key in SHORTHANDS and ":" in value and prefix.isidentifier()
                and (configs_dir() / key / f"{prefix}.yaml").is_file()):
            out += [f"{key}={prefix}", f"{key}.{SHORTHANDS[key]}={value}"]
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
    """Hydra's composition errors as one simfarm line: the key, what is accepted, the closest match."""
    import re

    msg = str(exc).split("Config search path")[0].strip()
    missing = re.search(r"Could not find '([^/']+)/([^']*)'", msg)
    if missing:
        group, option = missing.groups()
        return ConfigError(_unknown(group, option, group_options(group), what="option"))
    override = re.search(r"Could not override '([^']+)'", msg) or re.search(r"Key '([^']+)' is not in struct", msg)
    if override:
        key = override.group(1)
        group, _, sub = key.partition(".")
        keys = _group_keys(config_name, group) if sub else []
        if keys:  # a group's or another mapping's own key (writer.fps, takeover.after)
            return ConfigError(_unknown(key, sub, keys, what="key"))
        return ConfigError(_unknown(key, key, accepted_keys(config_name), what="key"))
    lines = [line.strip() for line in msg.splitlines() if line.strip()]
    return ConfigError(" ".join(lines[:2]) if lines else type(exc).__name__)


def _unknown(key: str, value: str, accepted: Sequence[str], what: str) -> str:
    from simfarm.checks import did_you_mean

    return f"{key}: unknown {what} {value!r}{did_you_mean(value, accepted)}; accepted: {', '.join(accepted)}"


def group_options(group: str) -> list[str]:
    """The options of a config group (configs/<group>/*.yaml)."""
    return sorted(p.stem for p in (configs_dir() / group).glob("*.yaml"))


def accepted_keys(config_name: str = "generate") -> list[str]:
    """Top-level keys of configs/<config_name>.yaml (with the configs it extends) and the groups."""
    keys: set[str] = set(GROUPS)
    for name in _config_chain(config_name):
        keys |= {str(k) for k in OmegaConf.load(configs_dir() / f"{name}.yaml") if k != "defaults"}
    return sorted(keys)


def _config_chain(config_name: str) -> list[str]:
    """configs/<name>.yaml and the top-level configs in its defaults list (eval extends generate)."""
    chain, todo = [], [config_name]
    while todo:
        name = todo.pop()
        if name in chain or not (configs_dir() / f"{name}.yaml").exists():
            continue
        chain.append(name)
        for entry in OmegaConf.load(configs_dir() / f"{name}.yaml").get("defaults", []):
            if isinstance(entry, str) and entry != "_self_":
                todo.append(entry)
    return chain


def _group_keys(config_name: str, group: str) -> list[str]:
    try:
        composed = compose(config_name)
    except ConfigError:
        return []
    section = composed.get(group)
    return sorted(str(k) for k in section) if isinstance(section, DictConfig) else []


def precheck_overrides(config_name: str, overrides: Sequence[str]) -> None:
    """Compose each value of each override once, so every mistake in a command line (a sweep's too)
    is one simfarm ConfigError before Hydra's own entry point prints its multi-line errors."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    overrides = [o for o in overrides if not o.startswith("hydra")]
    parser = OverridesParser.create()
    for item in overrides:
        try:
            parser.parse_overrides([item])
        except HydraException as exc:
            detail = str(exc).split("See https")[0].strip()
            raise ConfigError(f"{item}: cannot read this KEY=VALUE ({detail}); quote values with brackets, "
                              "commas or spaces, e.g. 'cameras=[workspace,wrist]'") from None
    parsed = parser.parse_overrides(list(overrides))
    sweeps = [k for k, o in enumerate(parsed) if o.is_sweep_override()]
    base = [o.input_line if not o.is_sweep_override() else _with_value(o, next(iter(o.sweep_string_iterator())))
            for o in parsed]
    compose(config_name, base)
    for k in sweeps:
        for value in list(parsed[k].sweep_string_iterator())[1:]:
            compose(config_name, [*base[:k], _with_value(parsed[k], value), *base[k + 1:]])


def _with_value(override, value: str) -> str:
    return f"{override.get_key_element()}={value}"


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
    if not (data.get("takeover") or {}).get("patience"):
        # Off, the intervention changes no episode: jobs written before the key keep their hash.
        data.pop("takeover", None)
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _require(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"{key}: {msg}")


def validate(cfg: DictConfig | dict, config_name: str = "generate") -> None:
    """Fail fast, before any worker starts, naming the key and the accepted values.

    The job-level keys are checked here; each stage checks its own part (`validate_config` of
    robots, scene, tasks, randomization, policies, writers, envs), the env options by the same
    rules the gymnasium env applies to its kwargs (simfarm.envs.options).
    """
    from simfarm import checks

    c = to_dict(cfg)
    accepted = accepted_keys(config_name)
    for key in c:
        if key not in accepted and key not in INTERNAL_KEYS:
            raise ConfigError(_unknown(str(key), str(key), accepted, what="key"))
    checks.integer("seed", c.get("seed"), 0)
    checks.integer("episodes", c.get("episodes"), 1)
    for key in ("workers", "shard_size"):
        if key in c:
            checks.integer(key, c[key], 1)
    if "max_failures" in c:
        checks.integer("max_failures", c["max_failures"], 0)
    for key in ("overwrite", "pretty"):
        if key in c:
            checks.boolean(key, c[key])
    checks.one_of("keep", c.get("keep", "all"), KEEP)
    if "output" in c:
        output = c["output"]
        if not isinstance(output, str) or not output:
            raise ConfigError(f"output: must be a folder path or URL (s3://bucket/prefix), got {output!r}")
        if "://" not in output or output.startswith("file://"):
            checks.writable_dir("output", output.removeprefix("file://"))
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
        "simfarm.annotations",
        "simfarm.suites",
    ):
        try:
            module = __import__(module_name, fromlist=["validate_config"])
        except ImportError:
            continue
        check = getattr(module, "validate_config", None)
        if check is not None:
            checks.append(check)
    return checks


# Hydra's own flags that take a value (`--cfg job`, `-cn eval`), left out of the override check.
_HYDRA_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                           "--config-dir", "-cd", "--info", "-i", "--experimental-rerun"}


def _overrides_only(argv: Sequence[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            if "=" not in arg:
                continue
        if arg.startswith("-"):
            skip = arg in _HYDRA_FLAGS_WITH_VALUE
            continue
        out.append(arg)
    return out


def hydra_main(config_name: str, argv: Sequence[str], job: Callable[[DictConfig], int | None]) -> int:
    """Run `job(cfg)` through Hydra's own entry point, so `-m` sweeps and `--cfg job` work.

    Hydra's logging and output folders are turned off: simfarm logs to stderr and writes only
    under the job's `output`.
    """
    import hydra

    argv = expand_shorthands(list(argv))
    precheck_overrides(config_name, _overrides_only(argv))
    # Hydra writes multirun.yaml into the sweep folder: a throwaway one, so nothing lands in the cwd.
    sweep_dir = tempfile.mkdtemp(prefix="simfarm-hydra-")
    extra = [
        "hydra.run.dir=.",
        f"hydra.sweep.dir={sweep_dir}",
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
            print(f"simfarm {config_name}: error: {exc}", file=sys.stderr)
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
        shutil.rmtree(sweep_dir, ignore_errors=True)
    return max(codes, default=0)
