"""SceneSpec -> MjSpec -> MjModel (compiled once), with an index of the ids tasks and randomizers need.

Physics options (why): timestep 0.002 s with the implicitfast integrator is stable for the arm's
position servos and stiff contacts; elliptic friction cones with impratio 10 keep parallel-jaw grasps
from slipping (pyramidal cones let grasped objects creep). MuJoCo 3.17's native convex collision
already gives flat-on-flat contacts (boxes on tables, cylinder bottoms) several contact points.
Sleeping islands are on: an unactuated object or drawer that has been still (every velocity under
`sleep_tolerance`, 1 mm/s, for 10 steps) sleeps until something awake touches it, so a room's
resting objects stop costing collision and constraint work; the actuated robot never sleeps. That
cuts physics 4-5x on generated rooms with the experts' success rates unchanged
(benchmarks/README.md). It is deterministic, so episodes still replay exactly.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np

from simfarm.errors import SceneError
from simfarm.scene.furniture import PRESS_FRACTION, add_furniture, button_name
from simfarm.scene.objects import add_object
from simfarm.scene.robot_info import make_robot_object
from simfarm.scene.spec import SceneSpec, Texture, Wall

TIMESTEP_S = 0.002
FLOOR_THICKNESS_M = 0.05

_BUILTINS = {"checker": mujoco.mjtBuiltin.mjBUILTIN_CHECKER, "gradient": mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
             "flat": mujoco.mjtBuiltin.mjBUILTIN_FLAT}
_MARKS = {"none": mujoco.mjtMark.mjMARK_NONE, "edge": mujoco.mjtMark.mjMARK_EDGE, "cross": mujoco.mjtMark.mjMARK_CROSS,
          "random": mujoco.mjtMark.mjMARK_RANDOM}


@dataclass(frozen=True)
class ObjectIds:
    body_id: int
    qpos_adr: int  # free joint: pos (3) then quat (4)
    dof_adr: int
    geom_ids: tuple[int, ...]
    spec: object  # the SceneObject


@dataclass(frozen=True)
class SurfaceIds:
    site_id: int
    furniture: str
    center_world: tuple[float, float, float]
    half_extents: tuple[float, float]
    top_z: float
    yaw_rad: float


@dataclass(frozen=True)
class JointIds:
    """A drawer, door or trolley: its joint, qpos address, range and handle site."""

    body_id: int
    joint_id: int
    qpos_adr: int
    dof_adr: int
    range: tuple[float, float]
    handle_site_id: int


@dataclass(frozen=True)
class ButtonIds:
    """A push button: its cap body, slide joint (q = depth pressed, 0 at rest), the cap's top site,
    and the depth at which a press registers (PRESS_FRACTION of the travel)."""

    body_id: int
    joint_id: int
    qpos_adr: int
    dof_adr: int
    range: tuple[float, float]
    top_site_id: int
    press_depth_m: float
    furniture: str
    spec: dict  # the button's entry in its furniture's params (pos, shape, color, diameter_m, travel_m)


@dataclass
class SceneIndex:
    objects: dict[str, ObjectIds] = field(default_factory=dict)  # by object name (no prefix)
    surfaces: dict[str, SurfaceIds] = field(default_factory=dict)  # by site name
    drawers: dict[str, JointIds] = field(default_factory=dict)  # by body name "furn/<cab>/drawer_<k>"
    doors: dict[str, JointIds] = field(default_factory=dict)  # by body name "furn/<cab>/door"
    trolleys: dict[str, JointIds] = field(default_factory=dict)  # by body name "furn/<trolley>"
    buttons: dict[str, ButtonIds] = field(default_factory=dict)  # by body name "fixture/<piece>/button_<k>"
    cameras: dict[str, int] = field(default_factory=dict)
    lights: dict[str, int] = field(default_factory=dict)
    furniture_geom_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    wall_geom_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    floor_geom_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    object_geom_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    robot_prefix: str = "robot/"
    goal_mocap_id: int = -1
    goal_geom_id: int = -1


@dataclass
class BuiltScene:
    model: mujoco.MjModel
    spec: SceneSpec
    mjspec: mujoco.MjSpec
    index: SceneIndex
    robot: object = None  # the simfarm.robots.Robot the model was built with

    def initial_state(self) -> mujoco.MjData:
        """MjData at the scene's initial state: objects where the spec puts them, robot at home."""
        data = mujoco.MjData(self.model)
        if self.robot is not None:
            self.robot.bind(self.model, prefix=self.index.robot_prefix).reset(data)
        mujoco.mj_forward(self.model, data)
        return data


def build_scene(spec: SceneSpec) -> BuiltScene:
    """Build and compile `spec` (robot attached under `robot/`); SceneError when it does not compile."""
    s = mujoco.MjSpec()
    s.modelname = f"simfarm_{spec.program}"
    s.compiler.degree = False
    s.option.timestep = TIMESTEP_S
    s.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    s.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    s.option.impratio = 10.0
    s.option.enableflags |= mujoco.mjtEnableBit.mjENBL_SLEEP
    s.visual.global_.offwidth = 640
    s.visual.global_.offheight = 480
    s.visual.quality.shadowsize = 2048
    s.stat.extent = 4.0
    # A soft headlight keeps dark palettes readable without extra lights (which cost render time).
    s.visual.headlight.ambient = [0.25, 0.25, 0.25]
    s.visual.headlight.diffuse = [0.35, 0.35, 0.35]

    for t in spec.textures:
        if t.builtin == "image":
            _add_image_texture(s, t)
            continue
        s.add_texture(name=t.name, type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=_BUILTINS[t.builtin],
                      rgb1=list(t.rgb1), rgb2=list(t.rgb2), mark=_MARKS[t.mark], markrgb=list(t.markrgb),
                      random=t.random, width=t.size_px, height=t.size_px)
    for m in spec.materials:
        mat = s.add_material(name=m.name, rgba=list(m.rgba), texrepeat=list(m.texrepeat), specular=m.specular,
                             shininess=m.shininess, reflectance=m.reflectance, texuniform=m.texuniform,
                             roughness=m.roughness, metallic=m.metallic, emission=m.emission)
        if m.texture:
            mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = m.texture
    world = s.worldbody
    for k, room in enumerate(spec.rooms):
        xs = [p[0] for p in room.polygon]
        ys = [p[1] for p in room.polygon]
        # Floors reach under the walls so neighbouring rooms' floors meet without a seam.
        half_x, half_y = (max(xs) - min(xs)) / 2 + 0.1, (max(ys) - min(ys)) / 2 + 0.1
        world.add_geom(name=f"room/floor_{k}", type=mujoco.mjtGeom.mjGEOM_BOX,
                       size=[half_x, half_y, FLOOR_THICKNESS_M / 2],
                       pos=[(max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2, -FLOOR_THICKNESS_M / 2],
                       material=room.floor_material)
    for wall in spec.walls:
        _add_wall(world, wall)
    for light in spec.lights:
        cutoff = light.cutoff_deg or (45.0 if light.directional else 80.0)
        world.add_light(name=light.name, pos=list(light.pos), dir=list(light.dir), diffuse=list(light.diffuse),
                        castshadow=light.castshadow, specular=[0.1, 0.1, 0.1], ambient=list(light.ambient),
                        type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL if light.directional else mujoco.mjtLightType.mjLIGHT_SPOT,
                        cutoff=cutoff, attenuation=[1.0, 0.0, 0.0])
    for cam in spec.cameras:
        world.add_camera(name=cam.name, pos=list(cam.pos), quat=list(cam.quat), fovy=cam.fovy_deg)
    for f in spec.furniture:
        add_furniture(world, f, f.materials)
    for obj in spec.objects:
        add_object(world, obj, None)
    goal = world.add_body(name="goal", mocap=True, pos=[0.0, 0.0, -10.0])
    goal.add_geom(name="goal/marker", type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[0.02, 0, 0], rgba=[0.1, 0.9, 0.2, 0.4],
                  contype=0, conaffinity=0, group=2, mass=0.0)

    robot = None
    if spec.robot is not None:
        robot = make_robot_object(spec.robot.name, dict(spec.robot.params))
        child = robot.build_spec()
        yaw = spec.robot.yaw_rad
        frame = world.add_frame(pos=list(spec.robot.pos), quat=[math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
        frame.attach_body(child.body("base"), "robot/", "")
        lift = float(spec.robot.pos[2])
        if lift > 0 and getattr(robot, "mount_below_surface_m", 0.05) > 0:  # a table-top arm stands on its table
            # A robot raised by the sampler (it cannot set its own mount height) stands on this.
            world.add_geom(name="robot/pedestal", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[0.1, lift / 2, 0],
                           pos=[spec.robot.pos[0], spec.robot.pos[1], lift / 2], rgba=[0.3, 0.3, 0.32, 1.0])
    try:
        model = s.compile()
    except ValueError as exc:
        raise SceneError(f"scene {spec.program!r} ({spec.content_hash()[:12]}) does not compile: {exc}") from exc
    return BuiltScene(model=model, spec=spec, mjspec=s, index=_index(model, spec), robot=robot)


def _add_image_texture(s: mujoco.MjSpec, t: Texture) -> None:
    """A procedural image texture: pixels from simfarm's texture cache (no decode when warm);
    the MJCF refers to the cached PNG (`file`), which holds the same pixels."""
    from simfarm.scene.textures import texture_file

    path, data = texture_file(dict(t.params), t.size_px)
    tex = s.add_texture(name=t.name, type=mujoco.mjtTexture.mjTEXTURE_2D, width=t.size_px, height=t.size_px,
                        nchannel=3, colorspace=mujoco.mjtColorSpace.mjCOLORSPACE_LINEAR)
    tex.data = data
    tex.file = str(path)


def _add_wall(world, wall: Wall) -> None:
    """Solid pieces between openings plus a lintel above each opening; ends overlap to close corners."""
    (x0, y0), (x1, y1) = wall.start, wall.end
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    yaw = math.atan2(uy, ux)
    quat = [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
    t, h = wall.thickness_m, wall.height_m
    pieces: list[tuple[float, float, float, float]] = []  # (from, to, z0, z1) along the wall
    cursor = -t / 2
    for op in sorted(wall.openings, key=lambda o: o.offset_m):
        a, b = op.offset_m - op.width_m / 2, op.offset_m + op.width_m / 2
        pieces.append((cursor, a, 0.0, h))
        pieces.append((a, b, op.height_m, h))
        cursor = b
    pieces.append((cursor, length + t / 2, 0.0, h))
    for k, (a, b, z0, z1) in enumerate(pieces):
        if b - a < 1e-4 or z1 - z0 < 1e-4:
            continue
        mid = (a + b) / 2
        name = f"room/{wall.name}" if k == 0 else f"room/{wall.name}_{k}"
        if z0 > 0:
            name = f"room/{wall.name}_frame_{k}"
        world.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=[(b - a) / 2, t / 2, (z1 - z0) / 2],
                       pos=[x0 + ux * mid, y0 + uy * mid, (z0 + z1) / 2], quat=quat, material=wall.material)


def _ids(model, kind, names) -> list[int]:
    return [mujoco.mj_name2id(model, kind, n) for n in names]


def _index(model: mujoco.MjModel, spec: SceneSpec) -> SceneIndex:
    obj_t = mujoco.mjtObj
    idx = SceneIndex()
    geom_names = [mujoco.mj_id2name(model, obj_t.mjOBJ_GEOM, g) or "" for g in range(model.ngeom)]
    body_names = [mujoco.mj_id2name(model, obj_t.mjOBJ_BODY, model.geom_bodyid[g]) or "" for g in range(model.ngeom)]
    for obj in spec.objects:
        body = mujoco.mj_name2id(model, obj_t.mjOBJ_BODY, f"obj/{obj.name}")
        joint = mujoco.mj_name2id(model, obj_t.mjOBJ_JOINT, f"obj/{obj.name}/free")
        geoms = tuple(int(g) for g in np.flatnonzero(model.geom_bodyid == body))
        idx.objects[obj.name] = ObjectIds(body, int(model.jnt_qposadr[joint]), int(model.jnt_dofadr[joint]), geoms, obj)
    for f in spec.furniture:
        c, s = math.cos(f.yaw_rad), math.sin(f.yaw_rad)
        for k, surf in enumerate(f.surfaces):
            name = f"furn/{f.name}/surface_{k}"
            lx, ly, lz = surf.center
            center = (f.pos[0] + c * lx - s * ly, f.pos[1] + s * lx + c * ly, f.pos[2] + lz)
            idx.surfaces[name] = SurfaceIds(mujoco.mj_name2id(model, obj_t.mjOBJ_SITE, name), f.name, center,
                                            surf.half_extents, center[2], f.yaw_rad)
        for k in range(int(f.params.get("drawers", 0)) if f.kind == "cabinet" else 0):
            idx.drawers[f"furn/{f.name}/drawer_{k}"] = _joint_ids(model, f"furn/{f.name}/drawer_{k}", "slide")
        if f.kind == "cabinet" and f.params.get("door"):
            idx.doors[f"furn/{f.name}/door"] = _joint_ids(model, f"furn/{f.name}/door", "hinge")
        if f.kind == "trolley":
            idx.trolleys[f"furn/{f.name}"] = _joint_ids(model, f"furn/{f.name}", "free")
        for k, button in enumerate(f.params.get("buttons") or ()):
            idx.buttons[button_name(f, k)] = _button_ids(model, button_name(f, k), f.name, button)
    idx.cameras = {c.name: mujoco.mj_name2id(model, obj_t.mjOBJ_CAMERA, c.name) for c in spec.cameras}
    idx.lights = {li.name: mujoco.mj_name2id(model, obj_t.mjOBJ_LIGHT, li.name) for li in spec.lights}
    idx.furniture_geom_ids = np.array([g for g in range(model.ngeom) if body_names[g].startswith("furn/")], dtype=int)
    idx.wall_geom_ids = np.array([g for g in range(model.ngeom) if geom_names[g].startswith("room/wall")], dtype=int)
    idx.floor_geom_ids = np.array([g for g in range(model.ngeom) if geom_names[g].startswith("room/floor")], dtype=int)
    idx.object_geom_ids = np.array([g for g in range(model.ngeom) if body_names[g].startswith("obj/")], dtype=int)
    goal = mujoco.mj_name2id(model, obj_t.mjOBJ_BODY, "goal")
    idx.goal_mocap_id = int(model.body_mocapid[goal])
    idx.goal_geom_id = mujoco.mj_name2id(model, obj_t.mjOBJ_GEOM, "goal/marker")
    return idx


def _joint_ids(model, body_name: str, joint_suffix: str) -> JointIds:
    obj_t = mujoco.mjtObj
    body = mujoco.mj_name2id(model, obj_t.mjOBJ_BODY, body_name)
    joint = mujoco.mj_name2id(model, obj_t.mjOBJ_JOINT, f"{body_name}/{joint_suffix}")
    site = mujoco.mj_name2id(model, obj_t.mjOBJ_SITE, f"{body_name}/handle")
    if min(body, joint, site) < 0:
        raise SceneError(f"built scene lacks {body_name!r} or its joint/handle (ids {body}, {joint}, {site})")
    rng = tuple(float(v) for v in model.jnt_range[joint])
    return JointIds(body, joint, int(model.jnt_qposadr[joint]), int(model.jnt_dofadr[joint]), rng, site)


def _button_ids(model, name: str, furniture: str, button: dict) -> ButtonIds:
    obj_t = mujoco.mjtObj
    body = mujoco.mj_name2id(model, obj_t.mjOBJ_BODY, f"{name}/cap")
    joint = mujoco.mj_name2id(model, obj_t.mjOBJ_JOINT, f"{name}/press")
    site = mujoco.mj_name2id(model, obj_t.mjOBJ_SITE, f"{name}/top")
    if min(body, joint, site) < 0:
        raise SceneError(f"built scene lacks button {name!r}'s cap, press joint or top site (ids {body}, {joint}, {site})")
    lo, hi = (float(v) for v in model.jnt_range[joint])
    return ButtonIds(body, joint, int(model.jnt_qposadr[joint]), int(model.jnt_dofadr[joint]), (lo, hi), site,
                     lo + PRESS_FRACTION * (hi - lo), furniture, button)


def export_mjcf(built: BuiltScene, path: str | Path) -> Path:
    """Write the scene's MJCF with its initial state (robot at home) as keyframe `init`; loads with from_xml_path."""
    path = Path(path)
    xml = built.mjspec.to_xml()
    data = built.initial_state()
    root = ET.fromstring(xml)
    for old in root.findall("keyframe"):
        root.remove(old)
    key = ET.SubElement(ET.SubElement(root, "keyframe"), "key")
    key.set("name", "init")
    key.set("qpos", " ".join(repr(float(v)) for v in data.qpos))
    if built.model.nu:
        key.set("ctrl", " ".join(repr(float(v)) for v in data.ctrl))
    if built.model.nmocap:
        key.set("mpos", " ".join(repr(float(v)) for v in data.mocap_pos.ravel()))
        key.set("mquat", " ".join(repr(float(v)) for v in data.mocap_quat.ravel()))
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ET.tostring(root, encoding="unicode"))
    return path


def model_digest(model: mujoco.MjModel) -> str:
    """sha256 over every numeric array and the names of a compiled model: equal models, equal digests."""
    import hashlib

    h = hashlib.sha256()
    for attr in sorted(dir(model)):
        if attr.startswith("_"):
            continue
        try:
            value = getattr(model, attr)
        except Exception:  # some properties raise on models lacking the feature
            continue
        if isinstance(value, np.ndarray):
            h.update(attr.encode())
            h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()
