"""`simfarm scene sample|gallery [KEY=VALUE ...]`.

    simfarm scene sample [scene=kitchen] [robot=arm] [seed=0] [workspace=surface|drawer|trolley]
                         [min_objects=N] [receptacle=false] [out=PATH.png] [xml=PATH.xml] [pretty=true]
    simfarm scene gallery [n=16] [seed=0] [robot=arm] out=PATH.png

`sample` prints only the SceneSpec JSON on stdout (logs go to stderr), so it pipes.
"""

from __future__ import annotations

import logging
import sys

import numpy as np

from simfarm.errors import ConfigError

log = logging.getLogger("simfarm.scene")

SAMPLE_KEYS = {"scene": "kitchen", "robot": "arm", "seed": "0", "workspace": "", "min_objects": "0",
               "receptacle": "false", "out": "", "xml": "", "pretty": "true"}
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
        return _sample(_parse(rest, SAMPLE_KEYS, command))
    if command == "gallery":
        return _gallery(_parse(rest, GALLERY_KEYS, command))
    raise ConfigError(f"scene: unknown subcommand {command!r}; accepted: sample, gallery")


def _sample(values: dict[str, str]) -> int:
    from simfarm.scene.builder import build_scene, export_mjcf
    from simfarm.scene.sampler import SceneRequest
    from simfarm.scene.source import load_scene_source

    source = load_scene_source(values["scene"])
    request = SceneRequest(workspace=values["workspace"] or None, min_workspace_objects=_int(values, "min_objects"),
                           need_receptacle=_bool(values, "receptacle"))
    rng = np.random.default_rng(_int(values, "seed"))
    spec = source.sample(rng, robot=values["robot"], request=request)
    log.info("sampled %s: %d rooms, %d furniture, %d objects (hash %s)", source.name, len(spec.rooms),
             len(spec.furniture), len(spec.objects), spec.content_hash()[:12])
    if values["out"] or values["xml"]:
        built = build_scene(spec)
        if values["xml"]:
            log.info("wrote %s", export_mjcf(built, values["xml"]))
        if values["out"]:
            from simfarm.scene.preview import render_preview

            log.info("wrote %s", render_preview(built, values["out"], pretty=_bool(values, "pretty")))
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
