"""`simfarm scene sample|gallery [KEY=VALUE ...]`.

    simfarm scene sample [episode=0] [out=PATH.png] [xml=PATH.xml] [pretty=true] [GENERATE OVERRIDES ...]
    simfarm scene gallery [n=16] [seed=0] [robot=arm] out=PATH.png

`sample` reads the same Hydra config tree as `simfarm generate` (scene=, robot=, task=,
randomization=, seed=, split=, scene_resample_every= ...) and prints the SceneSpec that episode
`episode` of that job uses, structural randomization included, so a dataset's scene can be
looked at before (or without) generating it. Only the JSON goes to stdout (logs go to stderr).
"""

from __future__ import annotations

import logging
import sys

from simfarm.errors import ConfigError

log = logging.getLogger("simfarm.scene")

SAMPLE_KEYS = {"episode": "0", "out": "", "xml": "", "pretty": "true"}  # the rest are generate overrides
GALLERY_KEYS = {"n": "16", "seed": "0", "robot": "arm", "out": "", "pretty": "false"}


def _parse(argv: list[str], accepted: dict[str, str], command: str) -> dict[str, str]:
    values = dict(accepted)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            raise ConfigError(f"scene {command}: expected KEY=VALUE, got {arg!r}; keys: {', '.join(accepted)}")
        if key not in accepted:
            raise ConfigError(f"scene {command}: unknown key {key!r}; accepted: {', '.join(accepted)}")
        values[key] = value
    return values


def _int(values: dict[str, str], key: str) -> int:
    try:
        return int(values[key])
    except ValueError as exc:
        raise ConfigError(f"{key}: expected an integer, got {values[key]!r}") from exc


def _bool(values: dict[str, str], key: str) -> bool:
    v = values[key].lower()
    if v not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{key}: expected true or false, got {values[key]!r}")
    return v in ("true", "1", "yes")


def main(argv: list[str]) -> int:
    """Entry point for `simfarm scene ...`; returns the exit code."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "sample":
        own = [a for a in rest if a.partition("=")[0] in SAMPLE_KEYS]
        overrides = [a for a in rest if a.partition("=")[0] not in SAMPLE_KEYS]
        return _sample(_parse(own, SAMPLE_KEYS, command), overrides)
    if command == "gallery":
        return _gallery(_parse(rest, GALLERY_KEYS, command))
    raise ConfigError(f"scene: unknown subcommand {command!r}; accepted: sample, gallery")


def _sample(values: dict[str, str], overrides: list[str]) -> int:
    from simfarm.config import compose, to_dict, validate
    from simfarm.envs import EnvConfig, SimfarmEnv
    from simfarm.scene.builder import export_mjcf

    cfg = to_dict(compose("generate", [*overrides, "obs_mode=state"]))
    validate(cfg)
    episode = _int(values, "episode")
    env = SimfarmEnv(EnvConfig.from_job(cfg))
    try:
        env.reset(seed=int(cfg["seed"]), options={"episode_index": episode})
        built = env.built_scene
        spec = built.spec
        log.info("scene of episode %d (seed %d): %s, %d rooms, %d furniture, %d objects (hash %s)", episode,
                 cfg["seed"], env.scene_source.name, len(spec.rooms), len(spec.furniture), len(spec.objects),
                 spec.content_hash()[:12])
        if values["xml"]:
            log.info("wrote %s", export_mjcf(built, values["xml"]))
        if values["out"]:
            from simfarm.scene.preview import render_preview

            log.info("wrote %s", render_preview(built, values["out"], pretty=_bool(values, "pretty")))
    finally:
        env.close()
    sys.stdout.write(spec.to_json() + "\n")
    return 0


def _gallery(values: dict[str, str]) -> int:
    from simfarm.scene.preview import render_gallery

    if not values["out"]:
        raise ConfigError("scene gallery: out=PATH.png is required")
    path = render_gallery(_int(values, "n"), values["out"], seed=_int(values, "seed"), robot=values["robot"],
                          pretty=_bool(values, "pretty"))
    log.info("wrote %s", path)
    return 0
