"""Procedural scenes: SceneSpec (pure data), room programs and catalogs, the sampler, the builder.

    spec = sample_scene("kitchen", np.random.default_rng(0), robot="arm", request=SceneRequest(...))
    built = build_scene(spec)            # BuiltScene(model, spec, mjspec, index)
    export_mjcf(built, "scene.xml")      # loadable with mujoco.MjModel.from_xml_path
"""

from simfarm.scene.builder import BuiltScene, SceneIndex, build_scene, export_mjcf, model_digest
from simfarm.scene.catalog import RoomProgram, available_programs, load_catalog, load_program
from simfarm.scene.sampler import SceneRequest, look_at_quat, sample_scene
from simfarm.scene.source import (
    SceneSource,
    fixed_scene,
    load_scene_source,
    resolve_scene_source,
    validate_config,
)
from simfarm.scene.spec import (
    Camera,
    Furniture,
    Light,
    Material,
    Opening,
    RobotPlacement,
    Room,
    SceneObject,
    SceneSpec,
    Surface,
    Texture,
    Wall,
)

__all__ = [
    "BuiltScene",
    "Camera",
    "Furniture",
    "Light",
    "Material",
    "Opening",
    "RobotPlacement",
    "Room",
    "RoomProgram",
    "SceneIndex",
    "SceneObject",
    "SceneRequest",
    "SceneSource",
    "SceneSpec",
    "Surface",
    "Texture",
    "Wall",
    "available_programs",
    "build_scene",
    "export_mjcf",
    "fixed_scene",
    "load_catalog",
    "load_program",
    "load_scene_source",
    "model_digest",
    "look_at_quat",
    "resolve_scene_source",
    "sample_scene",
    "validate_config",
]
