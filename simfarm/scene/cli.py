"""`simfarm scene sample|gallery [KEY=VALUE ...]`.

    simfarm scene sample [episode=0] [out=PATH.png] [xml=PATH.xml] [pretty=true] [GENERATE OVERRIDES ...]
    simfarm scene gallery [n=16] [seed=0] [robot=arm] [pretty=false] out=PATH.png

`sample` reads the same Hydra config tree as `simfarm generate` (scene=, robot=, task=,
randomization=, seed=, split=, scene_resample_every= ...) and prints the SceneSpec that episode
`episode` of that job uses, structural randomization included, so a dataset's scene can be
looked at before (or without) generating it. Only the JSON goes to stdout (logs go to stderr).
"""

from __future__ import annotations

import logging
import re
import sys

from simfarm.checks import boolean, did_you_mean, integer, writable_file
from simfarm.errors import ConfigError

log = logging.getLogger("simfarm.scene")

SAMPLE_KEYS = {"episode": "0", "out": "", "xml": "", "pretty": "true"}  # the rest are generate overrides
GALLERY_KEYS = {"n": "16", "seed": "0", "robot": "arm", "out": "", "pretty": "false"}
MAX_GALLERY_SCENES = 1024  # a contact sheet of more is unreadable (and minutes of rendering)
USAGE = {
    "sample": "simfarm scene sample [episode=N] [out=PATH.png] [xml=PATH.xml] [pretty=true|false] [GENERATE KEY=VALUE ...]",
    "gallery": "simfarm scene gallery out=PATH.png [n=16] [seed=0] [robot=arm] [pretty=false]",
}


def _parse(argv: list[str], accepted: dict[str, str], command: str) -> dict[str, str]:
    values = dict(accepted)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            raise ConfigError(f"scene {command}: expected KEY=VALUE, got {arg!r}; accepted keys: {', '.join(accepted)}")
        if key not in accepted:
            raise ConfigError(
                f"{key}: unknown key {key!r} of scene {command}{did_you_mean(key, accepted)}; accepted: {', '.join(accepted)}"
            )
        values[key] = value
    return values


def _check_overrides(overrides: list[str]) -> None:
    """Refuse flags, bare words and unknown keys with one line (with the sample keys among the
    suggestions), before composing anything; Hydra checks the values."""
    from simfarm.config import accepted_keys

    keys = accepted_keys("generate")
    accepted = [*SAMPLE_KEYS, *(k for k in keys if k not in SAMPLE_KEYS)]
    for arg in overrides:
        if arg.startswith("-"):
            raise ConfigError(f"scene sample: unknown flag {arg!r}; it takes KEY=VALUE arguments only ({USAGE['sample']})")
        key, sep, _ = arg.partition("=")
        if not sep and not arg.startswith("~"):
            raise ConfigError(f"scene sample: expected KEY=VALUE, got {arg!r}; accepted keys: {', '.join(accepted)}")
        top = re.split(r"[.@]", key.lstrip("+~"))[0]
        if top not in keys:
            raise ConfigError(f"{top}: unknown key {top!r}{did_you_mean(top, accepted)}; accepted: {', '.join(accepted)}")


def main(argv: list[str]) -> int:
    """Entry point for `simfarm scene ...`; returns the exit code."""
    from simfarm.paths import data_root

    if argv and argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0
    if not argv:
        raise ConfigError("scene: a subcommand is required: sample, gallery (simfarm scene --help shows their usage)")
    data_root()  # a wrong SIMFARM_ROOT fails every command the same way
    command, rest = argv[0], argv[1:]
    if command not in USAGE:
        raise ConfigError(f"scene: unknown subcommand {command!r}{did_you_mean(command, USAGE)}; accepted: sample, gallery")
    if any(a in ("-h", "--help") for a in rest):
        print(f"usage: {USAGE[command]}", file=sys.stderr)
        return 0
    if command == "sample":
        own = [a for a in rest if a.partition("=")[0] in SAMPLE_KEYS]
        overrides = [a for a in rest if a.partition("=")[0] not in SAMPLE_KEYS]
        return _sample(_parse(own, SAMPLE_KEYS, command), overrides)
    return _gallery(_parse(rest, GALLERY_KEYS, command))


def _sample(values: dict[str, str], overrides: list[str]) -> int:
    episode = integer("episode", values["episode"], minimum=0)
    pretty = boolean("pretty", values["pretty"])
    out = writable_file("out", values["out"], (".png",)) if values["out"] else None
    xml = writable_file("xml", values["xml"], (".xml",)) if values["xml"] else None
    _check_overrides(overrides)

    from simfarm.config import compose, to_dict, validate
    from simfarm.envs import EnvConfig, SimfarmEnv
    from simfarm.scene.builder import export_mjcf

    cfg = to_dict(compose("generate", [*overrides, "obs_mode=state"]))
    validate(cfg)
    env = SimfarmEnv(EnvConfig.from_job(cfg))
    try:
        env.reset(seed=int(cfg["seed"]), options={"episode_index": episode})
        built = env.built_scene
        spec = built.spec
        log.info("scene of episode %d (seed %d): %s, %d rooms, %d furniture, %d objects (hash %s)", episode,
                 cfg["seed"], env.scene_source.name, len(spec.rooms), len(spec.furniture), len(spec.objects),
                 spec.content_hash()[:12])
        if xml is not None:
            log.info("wrote %s", export_mjcf(built, xml))
        if out is not None:
            from simfarm.scene.preview import render_preview

            log.info("wrote %s", render_preview(built, out, pretty=pretty))
    finally:
        env.close()
    sys.stdout.write(spec.to_json() + "\n")
    return 0


def _gallery(values: dict[str, str]) -> int:
    n = integer("n", values["n"], minimum=1, maximum=MAX_GALLERY_SCENES)
    seed = integer("seed", values["seed"], minimum=0)
    pretty = boolean("pretty", values["pretty"])
    if not values["out"]:
        raise ConfigError(f"scene gallery: out=PATH.png is required; usage: {USAGE['gallery']}")
    out = writable_file("out", values["out"], (".png",))
    robot = values["robot"]
    if not robot.startswith("menagerie:"):  # Menagerie models load (maybe download) when the first scene builds
        from simfarm.errors import RobotError
        from simfarm.robots import make_robot

        try:
            make_robot(robot)
        except (RobotError, ConfigError) as exc:
            raise ConfigError(f"robot: {exc}") from None

    from simfarm.scene.preview import render_gallery

    log.info("wrote %s", render_gallery(n, out, seed=seed, robot=robot, pretty=pretty))
    return 0
