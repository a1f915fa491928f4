"""Offscreen rendering: one reused mujoco.Renderer per image size, throughput settings by default.

Rendering dominates the cost of an episode, so the defaults turn off shadows, reflections and
multisampling (≈12 ms instead of 125-250 ms per 224x224 frame on Mesa llvmpipe) and draw spheres,
capsules and cylinders with fewer triangles (a quarter fewer ms per frame again, benchmarks/README.md).
`pretty=True` restores MuJoCo's defaults for previews.

GL lifetime: a renderer frees its GL objects with its own context current (MuJoCo deletes GL names
in whichever context is current), and renderers still open at interpreter exit are closed by an
atexit hook that runs before MuJoCo's own `eglTerminate` hook, so an env or renderer that was
never closed exits silently.
"""

from __future__ import annotations

import atexit
import os
import sys
import weakref

os.environ.setdefault("MUJOCO_GL", "egl")

from simfarm import _quiet  # noqa: E402

_quiet.install()  # before `import mujoco`, which imports PyOpenGL (it logs at import)

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

# MuJoCo's default multisampling and tessellation, restored for pretty renderers of a model a fast
# one has changed.
PRETTY_OFFSAMPLES = 4
PRETTY_SLICES, PRETTY_STACKS = 28, 16
# Tessellation of the built-in round shapes for throughput renderers. llvmpipe's cost grows with
# triangles: 16 x 8 instead of 28 x 16 cuts 25-35% of a 224x224 frame of a generated room, and the
# frames differ from MuJoCo's defaults only at the silhouettes and shading of round shapes (38 dB
# PSNR, below what AV1 at crf 30 changes). Boxes keep their 4 x 4 quads: with local lights, fewer
# quads visibly change the shading of large faces (20 dB).
FAST_SLICES, FAST_STACKS = 16, 8
# Lights mjr_render can draw: it uses OpenGL's fixed-function lights GL_LIGHT0 + i, of which
# implementations have GL_MAX_LIGHTS = 8 (the GL minimum; Mesa and NVIDIA have exactly 8), while
# an mjvScene holds up to mjMAXLIGHT = 100 (the headlight first, then the model's active lights).
# For a 9th light MuJoCo's glLight*/glEnable(GL_LIGHT0 + 8) calls fail with GL_INVALID_ENUM and
# draw nothing; the error stays in the context and the next mjr_makeContext (the next scene)
# prints "OpenGL error 0x500 in or before mjr_makeContext". Renderers pass only the first 8.
GL_MAX_LIGHTS = 8


def configure_model_for_rendering(model: mujoco.MjModel, pretty: bool = False) -> None:
    """Set model-level visual options; call before creating a Renderer (or MjrContext) for `model`.

    Fast: no multisampling, round shapes with at most FAST_SLICES x FAST_STACKS (a model already
    coarser keeps its own); pretty: at least MuJoCo's defaults (a model already finer keeps its own).
    """
    q = model.vis.quality
    if pretty:
        q.offsamples = max(q.offsamples, PRETTY_OFFSAMPLES)
        q.numslices, q.numstacks = max(q.numslices, PRETTY_SLICES), max(q.numstacks, PRETTY_STACKS)
    else:
        q.offsamples = 0
        q.numslices, q.numstacks = min(q.numslices, FAST_SLICES), min(q.numstacks, FAST_STACKS)


class CameraRenderer:
    """Renders cameras of one model at one size; one GL context for the renderer's whole life.

    Built on MuJoCo's own pieces (GLContext, MjrContext, MjvScene), like `mujoco.Renderer`, but a
    scene switch (`set_model`) keeps the GL context and rebuilds only what depends on the model
    (≈8 ms instead of ≈85 ms for a new `mujoco.Renderer` on llvmpipe), and frames are read into
    a reused buffer. Create one per worker process and image size; `close()` it when done.
    """

    def __init__(self, model: mujoco.MjModel, height: int, width: int, pretty: bool = False):
        from mujoco import gl_context

        self._gl = self._mjr = None  # for close() (and __del__) when the constructor fails
        self.height, self.width, self.pretty = int(height), int(width), pretty
        self._gl = gl_context.GLContext(self.width, self.height)
        _track(self)
        self._gl.make_current()
        self._rect = mujoco.MjrRect(0, 0, self.width, self.height)
        self._option = mujoco.MjvOption()
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._flipped = np.empty((self.height, self.width, 3), np.uint8)
        self._depth_raw = np.empty((self.height, self.width), np.float32)
        # A geom group this renderer never draws, where culled geoms go (None: all groups drawn).
        hidden_groups = np.flatnonzero(np.asarray(self._option.geomgroup) == 0)
        self._hidden_group = int(hidden_groups[-1]) if hidden_groups.size else None
        self._mjr: mujoco.MjrContext | None = None
        self._model: mujoco.MjModel | None = None
        self.set_model(model)

    @property
    def model(self) -> mujoco.MjModel:
        return self._model

    @property
    def option(self) -> mujoco.MjvOption:
        """The visualization options of every frame (e.g. `option.frame` to draw site frames)."""
        return self._option

    def set_model(self, model: mujoco.MjModel) -> None:
        """Switch to another compiled scene, keeping the GL context."""
        if model is self._model:
            return
        configure_model_for_rendering(model, self.pretty)
        _ensure_offscreen_buffer(model, self.height, self.width)
        self._gl.make_current()
        if self._mjr is not None:
            self._mjr.free()
        self._mjr = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
        # The depth mapping linear_depth inverts (set, not assumed: mujoco.Renderer sets ZEROFAR).
        self._mjr.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZERONEAR
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._mjr)
        # Room for every geom and site of the model plus decorations; far smaller than
        # mujoco.Renderer's 10,000 (a 15 ms allocation per scene).
        self._scene = mujoco.MjvScene(model, maxgeom=2 * (model.ngeom + model.nsite) + 500)
        if not self.pretty:
            self._scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
            self._scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        # The clipping planes MuJoCo's projection uses (mjv_updateScene: znear/zfar x extent).
        self._znear = float(model.vis.map.znear * model.stat.extent)
        self._zfar = float(model.vis.map.zfar * model.stat.extent)
        self._model = model

    def render(self, data: mujoco.MjData, camera: str | int, out: np.ndarray | None = None,
               depth: np.ndarray | bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """RGB uint8 (H, W, 3) of camera `camera` (id or name); written into `out` when given.

        `depth=True` (or a float32 (H, W) array to fill) also returns the depth of every pixel in
        metres along the camera's axis, read from the same render pass (MuJoCo reads the colour
        and depth buffers at once): returns (rgb, depth). Pixels that see nothing hold the far
        clipping distance.
        """
        views = self.render_views(data, camera, rgb=out if out is not None else True, depth=depth)
        return views["rgb"] if depth is False else (views["rgb"], views["depth"])

    def render_segmentation(self, data: mujoco.MjData, camera: str | int, geom_label: np.ndarray,
                            out: np.ndarray | None = None) -> np.ndarray:
        """Label per pixel (H, W) of camera `camera`: `geom_label[g]` where geom g is seen, 0 elsewhere."""
        return self.render_views(data, camera, rgb=False, labels=geom_label, labels_out=out)["labels"]

    def render_views(self, data: mujoco.MjData, camera: str | int, rgb: np.ndarray | bool = True,
                     depth: np.ndarray | bool = False, labels: np.ndarray | None = None,
                     labels_out: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """What camera `camera` sees, from one scene update: any of "rgb" (uint8 (H, W, 3)),
        "depth" (float32 (H, W) metres, same pass as rgb) and "labels" (H, W).

        Labels come from a second pass with MuJoCo's segmentation rendering (flat colours that
        encode which scene element each pixel shows: no lighting, textures or fog, so colours
        and lights never change them) over the same scene: `labels[g]` for pixels that show geom
        g, 0 for pixels that show nothing. `labels` is an array over the model's geoms; its dtype
        is the output's. Arrays passed for rgb/depth/labels_out are filled in place.
        """
        cam_id = self._select(camera)
        self._update(data, cam_id)
        out: dict[str, np.ndarray] = {}
        if rgb is not False or depth is not False:
            mujoco.mjr_render(self._rect, self._scene, self._mjr)
            read_depth = depth is not False
            mujoco.mjr_readPixels(self._flipped, self._depth_raw if read_depth else None, self._rect, self._mjr)
            if rgb is not False:
                out["rgb"] = rgb if isinstance(rgb, np.ndarray) else np.empty((self.height, self.width, 3), np.uint8)
                np.copyto(out["rgb"], self._flipped[::-1])  # OpenGL's rows run bottom-up
            if read_depth:
                out["depth"] = depth if isinstance(depth, np.ndarray) else np.empty((self.height, self.width), np.float32)
                linear_depth(self._depth_raw[::-1], self._znear, self._zfar, out=out["depth"])
        if labels is not None:
            out["labels"] = self._segment(labels, labels_out)
        return out

    def _segment(self, geom_label: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        flags = self._scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 1
        flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 1
        try:
            mujoco.mjr_render(self._rect, self._scene, self._mjr)
            mujoco.mjr_readPixels(self._flipped, None, self._rect, self._mjr)
        finally:
            flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 0
            flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 0
        # IDCOLOR: colour = 1 + the index of the geom in the scene (0: nothing), bytes r, g, b.
        img = self._flipped[::-1]
        ngeom = self._scene.ngeom
        geoms = self._scene.geoms
        if ngeom < 255:
            # The red byte alone is the index: a 256-entry table, nothing past the scene.
            table = np.zeros(256, geom_label.dtype)
            scene_index = img[..., 0]
        else:
            # Scenes hold far fewer than 65,536 geoms: r and g suffice.
            table = np.zeros(ngeom + 2, geom_label.dtype)  # the last entry: any colour past the scene
            scene_index = np.minimum((img[..., 1].astype(np.int32) << 8) | img[..., 0], ngeom + 1)
        for i in range(ngeom):
            g = geoms[i]
            if g.objtype == mujoco.mjtObj.mjOBJ_GEOM and 0 <= g.objid < len(geom_label):
                table[i + 1] = geom_label[g.objid]
        if out is None:
            return table[scene_index]
        np.take(table, scene_index, out=out)
        return out

    def _select(self, camera: str | int) -> int:
        if self._mjr is None:
            raise RuntimeError("CameraRenderer.render called after close()")
        model = self._model
        cam_id = camera if isinstance(camera, (int, np.integer)) else mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if not 0 <= cam_id < model.ncam:
            raise ValueError(f"unknown camera {camera!r}; the model has {model.ncam} cameras")
        return int(cam_id)

    def _update(self, data: mujoco.MjData, cam_id: int) -> None:
        """The scene as camera `cam_id` sees it (geoms out of its view left out), GL context current."""
        model = self._model
        self._camera.fixedcamid = int(cam_id)
        self._gl.make_current()
        hidden = None if self.pretty else outside_view(model, data, int(cam_id), self.height, self.width)
        groups = None
        if hidden is not None and hidden.any() and self._hidden_group is not None:
            # mjv_updateScene filters geoms by group only: park the geoms out of view in a hidden
            # group for this call. Physics never reads geom_group; it is restored at once.
            groups = model.geom_group.copy()
            model.geom_group[hidden] = self._hidden_group
        try:
            mujoco.mjv_updateScene(model, data, self._option, None, self._camera, mujoco.mjtCatBit.mjCAT_ALL.value, self._scene)
        finally:
            if groups is not None:
                model.geom_group[:] = groups
        if self._scene.nlight > GL_MAX_LIGHTS:
            self._scene.nlight = GL_MAX_LIGHTS  # the rest would draw nothing and leave a GL error

    def close(self) -> None:
        """Free the GL context and everything in it; idempotent, and safe at interpreter exit."""
        gl, mjr = self._gl, self._mjr
        self._gl = self._mjr = None
        _live.discard(self)
        if gl is None:
            return
        if sys.is_finalizing():
            # Past the atexit hooks: MuJoCo's eglTerminate has run, and any EGL call raises.
            _abandon(gl, mjr)
            return
        try:
            # mjr_freeContext deletes GL names in the *current* context: make it this one, or it
            # deletes the textures and framebuffer of whichever renderer was made current last.
            gl.make_current()
            if mjr is not None:
                mjr.free()
            gl.free()
        except BaseException:
            _abandon(gl, mjr)
            raise

    def __enter__(self) -> CameraRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # a GC-time close has nobody to report to
            pass


# Renderers not yet closed, for the exit hook (weak: a dropped renderer is closed by __del__).
_live: weakref.WeakSet[CameraRenderer] = weakref.WeakSet()
_exit_hook_registered = False


def _track(renderer: CameraRenderer) -> None:
    global _exit_hook_registered
    _live.add(renderer)
    if not _exit_hook_registered:
        # Registered after the renderer's GLContext exists, hence after MuJoCo's EGL backend
        # registered `atexit(eglTerminate, display)` on creating its first context: atexit runs
        # hooks last-in first-out, so this one closes the renderers while the display is alive.
        atexit.register(close_all_renderers)
        _exit_hook_registered = True


def close_all_renderers() -> None:
    """Close every CameraRenderer of this process that is still open (run at interpreter exit)."""
    for renderer in list(_live):
        try:
            renderer.close()
        except Exception:  # one broken context must not keep the others open
            pass


# MjrContexts of abandoned renderers, kept so that their destructors (mjr_freeContext) cannot
# delete GL names in another renderer's context.
_abandoned: list[mujoco.MjrContext] = []


def _abandon(gl, mjr: mujoco.MjrContext | None) -> None:
    """Drop a GL context without calling EGL, whose display may be gone (GLContext.__del__ would
    raise EGLError); what it holds is released with the process."""
    if hasattr(gl, "_context"):
        gl._context = None
    if mjr is not None:
        _abandoned.append(mjr)


def outside_view(model: mujoco.MjModel, data: mujoco.MjData, cam_id: int, height: int, width: int) -> np.ndarray | None:
    """Geoms whose bounding sphere lies entirely outside camera `cam_id`'s view frustum (bool per geom).

    What MuJoCo's renderer would draw and then clip away: llvmpipe still transforms, lights and
    clips every triangle of them, which is 20-40% of a frame in a room where the wrist or
    workspace camera sees a corner. Leaving them out gives the same pixels as long as nothing out of
    view can change what is in view: true for the throughput settings (no shadows, no
    reflections), not for pretty ones. Uses the poses MuJoCo draws from (geom_xpos, cam_xpos and
    cam_xmat of `data`) and the frustum of a perspective camera with a vertical `fovy` and the
    image's aspect ratio. None for cameras described otherwise (orthographic, sensor intrinsics),
    which are not culled. Geoms without a bounding radius (planes) always stay.
    """
    if model.cam_projection[cam_id] != 0 or model.cam_sensorsize[cam_id].any():
        return None
    tan_y = np.tan(np.deg2rad(model.cam_fovy[cam_id]) / 2)
    tan_x = tan_y * width / height
    # Geom centres in the camera frame (x right, y up, looking along -z).
    rel = (data.geom_xpos - data.cam_xpos[cam_id]) @ data.cam_xmat[cam_id].reshape(3, 3)
    depth = -rel[:, 2]
    # A little more than the bounding radius: a geom that grazes a side plane is kept.
    radius = model.geom_rbound * 1.01 + 1e-3
    behind = depth < -radius
    # Distance of the centre beyond each side plane of the frustum (through the camera's origin).
    beyond_x = (np.abs(rel[:, 0]) - tan_x * depth) / np.sqrt(1 + tan_x * tan_x) > radius
    beyond_y = (np.abs(rel[:, 1]) - tan_y * depth) / np.sqrt(1 + tan_y * tan_y) > radius
    return (behind | beyond_x | beyond_y) & (model.geom_rbound > 0)


def linear_depth(raw: np.ndarray, znear: float, zfar: float, out: np.ndarray | None = None) -> np.ndarray:
    """Metres along the camera axis from depth-buffer values of a perspective camera.

    Read with `readDepthMap = mjDEPTH_ZERONEAR` (0 at the near plane, 1 at the far one, OpenGL's
    classic mapping): raw = (1/near - 1/z) / (1/near - 1/far), so z = near / (1 - raw (1 - near/far)).
    In float32, in place: the denominator's rounding is 1e-5 of the depth at the far end of a room
    (0.1 mm at 10 m), far below one 12-bit code of the stored depth (1.5 mm at 1 m).
    """
    out = np.empty(raw.shape, np.float32) if out is None else out
    np.multiply(raw, np.float32(1.0 - znear / zfar), out=out)
    np.subtract(np.float32(1.0), out, out=out)
    np.divide(np.float32(znear), out, out=out)
    return out


def _ensure_offscreen_buffer(model: mujoco.MjModel, height: int, width: int) -> None:
    # mujoco.Renderer refuses sizes larger than the model's offscreen buffer.
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
