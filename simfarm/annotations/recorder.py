"""The Annotator: ground-truth vqa / trace / motion annotations of an episode from simulator state.

    rec = Annotator(kinds=("vqa", "trace", "motion"), every=10, horizon=10)
    rec.start(env)          # after env.reset (the scene may differ per episode)
    rec.observe(env, t)     # at frame t, before the action of step t
    ann = rec.finish(T)     # {"events", "persistent", "arrays", "meta"}

Every frame records the TCP and finger opening of each arm, the robot's base pose, each camera's
pose and each drawer's opening (cheap copies). Every `every`-th frame (0, K, 2K, ...) the vqa pass
renders segmentation for each camera and asks it one question; traces are projected at `finish`
from the recorded poses; motion is segmented at `finish` from the whole trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np

from simfarm.annotations import formats, motion, views
from simfarm.annotations.kinds import check_annotations
from simfarm.checks import integer
from simfarm.envs import geometry

DRAWER_CLOSED_FRACTION = 0.05  # "closed" up to 5% of its travel (close_drawer's own threshold)
ON_SURFACE_MARGIN_M = 0.02  # an object rests on a surface: its bottom within 2 cm of the top
MIN_TRACE_POINTS = 2  # a trace row needs at least two future points in the image


@dataclass
class _Scene:
    """What the annotator keeps of a built scene (cached while the scene stays)."""

    names: list[str]
    phrases: list[str | None]
    body_ids: np.ndarray
    half_sizes: np.ndarray  # (n, 3) half bounding-box extents in each object's frame
    grasp_geoms: list[int]  # handle geom id per object, -1: grasp at the top centre
    views: views.ObjectViews
    drawers: list[tuple[str, Any, str]]  # (body name, JointIds, phrase)
    surfaces: list[Any]  # SurfaceIds of the workspace
    workspace_word: str | None  # "table", "counter", ...


@dataclass
class _Camera:
    name: str
    key: str
    cam_id: int
    K: np.ndarray
    counter: int = 0
    poses: list[np.ndarray] = field(default_factory=list)


class Annotator:
    """Records an episode's ground-truth annotations (see the module doc and README.md)."""

    def __init__(self, kinds=("vqa", "trace", "motion"), every: int = 10, horizon: int = 10):
        self.kinds = check_annotations(kinds)
        self.every = integer("annotations.every", every, minimum=1)
        self.horizon = integer("annotations.horizon", horizon, minimum=1)
        self._scene_key: Any = None
        self._scene: _Scene | None = None
        self._started = False

    # -- episode ------------------------------------------------------------------------------

    def start(self, env) -> None:
        """Begin an episode on `env` (call after env.reset)."""
        built = env.built_scene
        if self._scene_key is not built:
            self._scene = _scene_cache(env)
            self._scene_key = built
        handle = env.handle
        arms = getattr(handle, "arms", None) or {"": handle}
        self._arms = {name: h for name, h in arms.items() if h.tcp_site_id >= 0}
        self._base_body = int(handle.root_body_id)
        h, w = (int(v) for v in env.config.camera_size)
        self._size = (h, w)
        wants_cams = bool({"vqa", "trace"} & set(self.kinds))
        cams = dict(env.camera_ids) if wants_cams else {}
        self._cams = [_Camera(name, formats.camera_key(name), int(cid),
                              geometry.intrinsic_matrix(float(env.model.cam_fovy[cid]), h, w)) for name, cid in cams.items()]
        n = len(self._scene.names)
        self._tcp: dict[str, list[np.ndarray]] = {a: [] for a in self._arms}
        self._opening: dict[str, list[float]] = {a: [] for a in self._arms}
        self._base: list[np.ndarray] = []
        self._drawer_open: list[np.ndarray] = []
        self._vqa_frames: list[int] = []
        self._vqa = {c.name: {"visible": {}, "boxes": {}, "points": {}, "grasp": {}} for c in self._cams}
        self._events: list[dict[str, Any]] = []
        self._n = n
        self._started = True

    def observe(self, env, t: int) -> None:
        """Record frame `t` (the state of the frame's observation, before the action of step t)."""
        if not self._started:
            raise RuntimeError("Annotator.observe before start(env)")
        if t != len(self._base):
            raise ValueError(f"Annotator.observe: frame {t} out of order; expected frame {len(self._base)}")
        data = env.data
        for name, h in self._arms.items():
            self._tcp[name].append(data.site_xpos[h.tcp_site_id].copy())
            self._opening[name].append(float(h.gripper_opening(data)))
        self._base.append(geometry.world_T_body(data, self._base_body))
        self._drawer_open.append(np.array([_open_fraction(data, ids) for _, ids, _ in self._scene.drawers], np.float32))
        for cam in self._cams:
            cam.poses.append(geometry.world_T_camera(data, cam.cam_id))
        if "vqa" in self.kinds and self._cams and t % self.every == 0:
            self._vqa_frame(env, t)

    def finish(self, T: int) -> dict[str, Any]:
        """The episode's annotations over its first T frames (see README.md for every field)."""
        if not self._started:
            raise RuntimeError("Annotator.finish before start(env)")
        T = integer("T", T, minimum=0)
        if T > len(self._base):
            raise ValueError(f"Annotator.finish({T}): only {len(self._base)} frames were observed")
        self._started = False
        scene = self._scene
        events = [r for r in self._events if r["frame"] < T]
        arrays: dict[str, np.ndarray] = {}
        annotated = np.zeros(T, np.uint8)
        annotated[[f for f in self._vqa_frames if f < T]] = 1
        if "vqa" in self.kinds and self._cams:
            arrays["annotated"] = annotated
            for cam in self._cams:
                arrays.update(self._vqa_arrays(cam, T))
        if scene.drawers:
            arrays["drawer_open"] = np.stack(self._drawer_open[:T]) if T else np.zeros((0, len(scene.drawers)), np.float32)
        if "trace" in self.kinds and self._arms:
            for cam in self._cams:
                tracks = {arm: self._trace(cam, arm, T) for arm in self._arms}
                for arm, track in tracks.items():
                    arrays[f"trace.{cam.name}" + (f".{arm}" if len(self._arms) > 1 else "")] = track
                events += self._trace_rows(cam, tracks, T)
        persistent: list[dict[str, Any]] = []
        segments: dict[str, list[motion.Segment]] = {}
        if "motion" in self.kinds and self._arms and T:
            base_T_world = [geometry.invert(b) for b in self._base[:T]]
            for arm in self._arms:
                tcp = np.stack(self._tcp[arm][:T])
                local = np.einsum("tij,tj->ti", np.stack(base_T_world)[:, :3, :3], tcp) + np.stack(base_T_world)[:, :3, 3]
                noun = f"the {arm} gripper" if len(self._arms) > 1 else "the gripper"
                segments[arm] = motion.segment(local, np.asarray(self._opening[arm][:T]), noun)
            rows = motion.merge_arms(segments, T)
            persistent = [_row(f, "assistant", text, "motion", None) for f, text in rows]
            active = np.full(T, -1, np.int16)
            for k, (f, _) in enumerate(rows):
                active[f:] = k
            arrays["motion_row"] = active
        events.sort(key=lambda r: (r["frame"], r["camera"] or "", r["style"], r["role"] != "user"))
        meta = {
            "objects": list(scene.names),
            "phrases": dict(zip(scene.names, scene.phrases, strict=True)),
            "cameras": {c.name: c.key for c in self._cams},
            "arms": list(self._arms),
            "drawers": [{"body": body, "phrase": phrase} for body, _, phrase in scene.drawers],
            "every": self.every,
            "horizon": self.horizon,
            "kinds": list(self.kinds),
            "visibility_codes": dict(views.VISIBILITY_CODES),
            "formats": {"point": formats.POINT_FORMAT, "box": formats.BOX_FORMAT},
            "motion_segments": {arm: [{"start": s.start, "end": s.end, "text": s.text, "kind": s.kind} for s in segs]
                                for arm, segs in segments.items()},
        }
        return {"events": events, "persistent": persistent, "arrays": arrays, "meta": meta}

    # -- vqa ----------------------------------------------------------------------------------

    def _vqa_frame(self, env, t: int) -> None:
        scene = self._scene
        data = env.data
        h, w = self._size
        renderer = env.renderer()
        self._vqa_frames.append(t)
        for cam in self._cams:
            world_T_cam = cam.poses[-1]
            codes, boxes, points, _ = scene.views.analyse(renderer, data, cam.cam_id, cam.K, world_T_cam, h, w)
            grasp = np.full((self._n, 2), np.nan, np.float32)
            grasp_code = codes.copy()
            for k in range(self._n):
                if codes[k] != views.VISIBLE:
                    continue
                uv, z = geometry.project(_grasp_point(data, scene, k)[None], cam.K, world_T_cam)
                if z[0] > 0 and _in_image(uv[0], h, w):
                    grasp[k] = (uv[0, 1], uv[0, 0])
                else:
                    grasp_code[k] = views.OUT_OF_VIEW
            store = self._vqa[cam.name]
            store["visible"][t], store["boxes"][t], store["points"][t], store["grasp"][t] = codes, boxes, points, grasp
            question, answer = self._question(env, cam, codes, boxes, points, grasp, grasp_code)
            self._events.append(_row(t, "user", question, "vqa", cam.key))
            self._events.append(_row(t, "assistant", formats.dumps(answer), "vqa", cam.key))
            cam.counter += 1

    def _question(self, env, cam: _Camera, codes, boxes, points, grasp, grasp_code) -> tuple[str, dict]:
        """One question for this camera, the kinds taking turns, the objects in view taking turns."""
        scene = self._scene
        data = env.data
        h, w = self._size
        drawers = [d for d in range(len(scene.drawers)) if self._drawer_in_view(data, cam, d)]
        named = [k for k in range(self._n) if scene.phrases[k] is not None]
        kinds = ["locate", "grasp", "list"] + (["drawer"] if drawers else [])
        if not named:
            kinds = [k for k in kinds if k not in ("locate", "grasp")]
        kind = kinds[cam.counter % len(kinds)]
        turn = cam.counter // len(kinds)
        if kind == "drawer":
            d = drawers[turn % len(drawers)]
            _, ids, phrase = scene.drawers[d]
            frac = _open_fraction(data, ids)
            return f"Is {phrase} open?", formats.drawer_state(phrase, frac > DRAWER_CLOSED_FRACTION, frac)
        if kind == "list":
            on = [k for k in named if codes[k] == views.VISIBLE and self._on_workspace(data, k)]
            where = f"on the {scene.workspace_word}" if scene.workspace_word else "in the image"
            if not scene.workspace_word:
                on = [k for k in named if codes[k] == views.VISIBLE]
            return f"Which objects {where} can you see?", formats.object_list(f"objects {where}", [scene.phrases[k] for k in on])
        in_view = [k for k in named if codes[k] != views.OUT_OF_VIEW] or named
        k = in_view[turn % len(in_view)]
        label = scene.phrases[k]
        if kind == "locate":
            question = f"Where is {label}? Give its box_2d and centre point, [y, x] normalized to 0-1000."
            if codes[k] != views.VISIBLE:
                return question, formats.unseen(label, views.VISIBILITY_CODES[int(codes[k])])
            return question, formats.located(label, formats.norm_box(boxes[k], h, w), formats.norm_point(*points[k], h, w))
        question = f"Point to where to grasp {label}, [y, x] normalized to 0-1000."
        part = "handle" if scene.grasp_geoms[k] >= 0 else "top"
        if grasp_code[k] != views.VISIBLE:
            return question, formats.unseen(label, views.VISIBILITY_CODES[int(grasp_code[k])], part)
        return question, formats.grasp_point(label, formats.norm_point(*grasp[k], h, w), part)

    def _drawer_in_view(self, data, cam: _Camera, d: int) -> bool:
        site = self._scene.drawers[d][1].handle_site_id
        uv, z = geometry.project(data.site_xpos[site][None], cam.K, cam.poses[-1])
        return bool(z[0] > 0 and _in_image(uv[0], *self._size))

    def _on_workspace(self, data, k: int) -> bool:
        scene = self._scene
        pos = data.xpos[scene.body_ids[k]]
        R = data.xmat[scene.body_ids[k]].reshape(3, 3)
        bottom = pos[2] - float(np.abs(R[2]) @ scene.half_sizes[k])
        for s in scene.surfaces:
            c, sn = np.cos(s.yaw_rad), np.sin(s.yaw_rad)
            dx, dy = pos[0] - s.center_world[0], pos[1] - s.center_world[1]
            lx, ly = c * dx + sn * dy, -sn * dx + c * dy
            if (abs(lx) <= s.half_extents[0] + 0.01 and abs(ly) <= s.half_extents[1] + 0.01
                    and abs(bottom - s.top_z) <= ON_SURFACE_MARGIN_M):
                return True
        return False

    def _vqa_arrays(self, cam: _Camera, T: int) -> dict[str, np.ndarray]:
        n = self._n
        store = self._vqa[cam.name]
        out = {
            f"visible.{cam.name}": np.full((T, n), views.NOT_ANNOTATED, np.uint8),
            f"boxes.{cam.name}": np.full((T, n, 4), np.nan, np.float32),
            f"points.{cam.name}": np.full((T, n, 2), np.nan, np.float32),
            f"grasp.{cam.name}": np.full((T, n, 2), np.nan, np.float32),
        }
        for t in store["visible"]:
            if t < T:
                for part in ("visible", "boxes", "points", "grasp"):
                    out[f"{part}.{cam.name}"][t] = store[part][t]
        return out

    # -- trace --------------------------------------------------------------------------------

    def _trace(self, cam: _Camera, arm: str, T: int) -> np.ndarray:
        """(T, N, 2) [y, x] pixels: TCP at frame t + k (k = 1..N) seen by the camera at frame t;
        NaN past the episode's end, behind the camera or outside the image."""
        N = self.horizon
        h, w = self._size
        out = np.full((T, N, 2), np.nan, np.float32)
        tcp = np.stack(self._tcp[arm][:T]) if T else np.zeros((0, 3))
        for t in range(T - 1):
            future = tcp[t + 1:min(t + 1 + N, T)]
            uv, z = geometry.project(future, cam.K, cam.poses[t])
            ok = (z > 0) & (uv[:, 0] >= -0.5) & (uv[:, 0] < w - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < h - 0.5)
            yx = np.stack([uv[:, 1], uv[:, 0]], axis=1)
            yx[~ok] = np.nan
            out[t, :len(future)] = yx
        return out

    def _trace_rows(self, cam: _Camera, tracks: dict[str, np.ndarray], T: int) -> list[dict[str, Any]]:
        h, w = self._size
        rows = []
        for t in range(0, T, self.every):
            answer = {}
            for arm, track in tracks.items():
                pts = track[t][~np.isnan(track[t, :, 0])]
                answer[arm] = [formats.norm_point(y, x, h, w) for y, x in pts]
            if max(len(p) for p in answer.values()) < MIN_TRACE_POINTS:
                continue
            single = len(tracks) == 1
            who = "the gripper" if single else "each gripper"
            question = f"Trace {who}'s path over the next {self.horizon} steps as [y, x] points normalized to 0-1000."
            content = formats.dumps(next(iter(answer.values())) if single else answer)
            rows.append(_row(t, "user", question, "trace", cam.key))
            rows.append(_row(t, "assistant", content, "trace", cam.key))
        return rows


# -- helpers ---------------------------------------------------------------------------------

def _row(frame: int, role: str, content: str, style: str, camera: str | None) -> dict[str, Any]:
    return {"frame": int(frame), "role": role, "content": content, "style": style, "camera": camera, "tool_calls": None}


def _in_image(uv, h: int, w: int) -> bool:
    return bool(-0.5 <= uv[0] < w - 0.5 and -0.5 <= uv[1] < h - 0.5)


def _open_fraction(data, ids) -> float:
    lo, hi = ids.range
    return float(np.clip((data.qpos[ids.qpos_adr] - lo) / max(hi - lo, 1e-9), 0.0, 1.0))


def _grasp_point(data, scene: _Scene, k: int) -> np.ndarray:
    """The handle's centre where the object has one, else the top centre of its bounding box."""
    g = scene.grasp_geoms[k]
    if g >= 0:
        return data.geom_xpos[g].copy()
    b = scene.body_ids[k]
    R = data.xmat[b].reshape(3, 3)
    top = data.xpos[b].copy()
    top[2] += float(np.abs(R[2]) @ scene.half_sizes[k])
    return top


def _scene_cache(env) -> _Scene:
    from simfarm.envs.segmentation import InstanceTable
    from simfarm.errors import TaskError
    from simfarm.tasks.refer import refer_to

    built = env.built_scene
    spec, index, model = built.spec, built.index, env.model
    table = env.instances if env.instances is not None else InstanceTable(model, built, env.handle.geom_ids)
    objects = [o for o in spec.objects if o.name in index.objects and o.name in table.by_name]
    phrases: list[str | None] = []
    for o in objects:
        try:
            phrases.append(refer_to(o, spec.objects, None, robot=spec.robot).text)
        except TaskError:
            phrases.append(None)  # no unambiguous phrase: in the arrays, never asked about
    geoms = [np.asarray(index.objects[o.name].geom_ids, np.int64) for o in objects]
    grasp = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"obj/{o.name}/handle") for o in objects]
    view = views.ObjectViews(model, table.geom_instance, [table.by_name[o.name] for o in objects], geoms)
    drawers = _drawer_phrases(env)
    surfaces = [s for s in index.surfaces.values() if s.furniture == spec.workspace]
    piece = next((f for f in spec.furniture if f.name == spec.workspace), None)
    return _Scene(
        names=[o.name for o in objects], phrases=phrases,
        body_ids=np.array([index.objects[o.name].body_id for o in objects], np.int64),
        half_sizes=np.array([np.asarray(o.size, float) / 2 for o in objects]).reshape(-1, 3),
        grasp_geoms=[int(g) for g in grasp], views=view, drawers=drawers, surfaces=surfaces,
        workspace_word=piece.kind.replace("_", " ") if piece is not None and surfaces else None,
    )


def _drawer_phrases(env) -> list[tuple[str, Any, str]]:
    """Drawers with the phrase a person would use: "the drawer" when there is one; else the
    cabinet by its place from the robot's left ("the left cabinet", "the second cabinet from the
    left"), and the drawer by its height in it ("the top drawer of the left cabinet")."""
    items = list(env.built_scene.index.drawers.items())
    if len(items) == 1:
        return [(items[0][0], items[0][1], "the drawer")]
    base_T_world = geometry.invert(env.base_pose())
    furniture = {f.name: f for f in env.built_scene.spec.furniture}

    def local(p) -> np.ndarray:
        return geometry.transform(base_T_world, np.asarray(p, float)[None])[0]

    by_cabinet: dict[str, list[tuple[str, Any]]] = {}
    for name, ids in items:
        by_cabinet.setdefault(name.split("/")[1], []).append((name, ids))
    cabinets = sorted(by_cabinet, key=lambda c: -float(local(furniture[c].pos)[1]) if c in furniture else 0.0)
    ordinals = ("first", "second", "third", "fourth", "fifth", "sixth")
    out = []
    for c, cab in enumerate(cabinets):
        if len(cabinets) == 1:
            cab_phrase = "the cabinet"
        elif len(cabinets) == 2:
            cab_phrase = ("the left cabinet", "the right cabinet")[c]
        else:
            cab_phrase = f"the {ordinals[min(c, len(ordinals) - 1)]} cabinet from the left"
        drawers = sorted(by_cabinet[cab], key=lambda it: -float(env.data.site_xpos[it[1].handle_site_id][2]))
        for d, (name, ids) in enumerate(drawers):
            if len(drawers) == 1:
                which = "the drawer"
            elif d == 0:
                which = "the top drawer"
            elif d == len(drawers) - 1:
                which = "the bottom drawer"
            else:
                which = f"the {ordinals[min(d, len(ordinals) - 1)]} drawer from the top"
            out.append((name, ids, f"{which} of {cab_phrase}"))
    return out
