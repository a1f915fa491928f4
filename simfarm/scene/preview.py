"""Preview images: a scene's overview and workspace cameras side by side, and a gallery across programs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simfarm.checks import integer, writable_file
from simfarm.render import CameraRenderer
from simfarm.scene.builder import BuiltScene, build_scene
from simfarm.scene.catalog import available_programs
from simfarm.scene.sampler import sample_scene


def render_views(built: BuiltScene, cameras: tuple[str, ...], size: tuple[int, int], pretty: bool) -> list[np.ndarray]:
    """RGB frames of `cameras` at the scene's initial state."""
    data = built.initial_state()
    with CameraRenderer(built.model, size[0], size[1], pretty=pretty) as renderer:
        return [renderer.render(data, cam).copy() for cam in cameras]


def render_preview(built: BuiltScene, path_png: str | Path, size: tuple[int, int] = (480, 640), pretty: bool = True) -> Path:
    """Write a PNG with the `overview_0` and `workspace` views side by side; returns the path."""
    from PIL import Image

    path = writable_file("out", path_png, (".png",))
    frames = render_views(built, ("overview_0", "workspace"), size, pretty)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(frames, axis=1)).save(path)
    return path


def render_gallery(n: int, path_png: str | Path, seed: int = 0, robot: str = "arm", tile: tuple[int, int] = (180, 240),
                   pretty: bool = False) -> Path:
    """A contact sheet of `n` scenes cycling through the room programs (overview above workspace view)."""
    from PIL import Image, ImageDraw

    n = integer("n", n, minimum=1)
    path = writable_file("out", path_png, (".png",))
    programs = available_programs()
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, w = tile
    sheet = Image.new("RGB", (cols * w, rows * 2 * h), (20, 20, 20))
    renderer = None
    try:
        for i in range(n):
            program = programs[i % len(programs)]
            spec = sample_scene(program, np.random.default_rng([seed, i]), robot=robot)
            built = build_scene(spec)
            if renderer is None:
                renderer = CameraRenderer(built.model, h, w, pretty=pretty)
            else:
                renderer.set_model(built.model)
            data = built.initial_state()
            top = renderer.render(data, "overview_0").copy()
            bottom = renderer.render(data, "workspace").copy()
            r, c = divmod(i, cols)
            sheet.paste(Image.fromarray(np.concatenate([top, bottom], axis=0)), (c * w, r * 2 * h))
            ImageDraw.Draw(sheet).text((c * w + 4, r * 2 * h + 2), f"{program} #{i}", fill=(255, 255, 255))
    finally:
        if renderer is not None:
            renderer.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path
