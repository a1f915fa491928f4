"""What a camera shows of each object at a frame, from segmentation renders.

An object is `VISIBLE` when at least VISIBLE_FRACTION of the pixels it would cover with nothing in
front of it (a render of it alone, at the same pose and camera) show it in the full render;
`OCCLUDED` when fewer do; `OUT_OF_VIEW` when it covers no pixel of the image even alone. Objects
that cannot overlap on screen (their geoms' bounding spheres project to disjoint rectangles) share
one alone-render, so a frame costs the full segmentation render plus a few object-only ones.
Boxes are the tight box of the visible pixels (edges, ymax/xmax exclusive: `seg[ymin:ymax,
xmin:xmax]`); the centre point is the visible pixel nearest the visible pixels' centroid (on the
object even for a bowl or a mug).
"""

from __future__ import annotations

import numpy as np

from simfarm.envs import geometry
from simfarm.render import outside_view

OUT_OF_VIEW, OCCLUDED, VISIBLE = 0, 1, 2
NOT_ANNOTATED = 255  # frames the vqa pass skipped (every K-th frame only)
VISIBILITY_CODES = {OUT_OF_VIEW: "out_of_view", OCCLUDED: "occluded", VISIBLE: "visible", NOT_ANNOTATED: "not_annotated"}
VISIBLE_FRACTION = 0.25


class ObjectViews:
    """Per scene: the geoms of each object, and label arrays for the renders."""

    def __init__(self, model, geom_instance: np.ndarray, object_ids: list[int], object_geoms: list[np.ndarray]):
        self.model = model
        self.geom_instance = geom_instance
        self.object_ids = np.asarray(object_ids, dtype=np.int64)  # instance id per object column
        self.object_geoms = object_geoms
        self.n = len(object_ids)
        self.all_object_geoms = np.concatenate(object_geoms) if object_geoms else np.zeros(0, np.int64)

    def analyse(self, renderer, data, cam_id: int, K: np.ndarray, world_T_cam: np.ndarray, height: int, width: int):
        """(codes (n,), boxes (n, 4) pixel edges, points (n, 2) [y, x], seg (H, W)) for one camera."""
        n = self.n
        codes = np.full(n, OUT_OF_VIEW, np.uint8)
        boxes = np.full((n, 4), np.nan, np.float32)
        points = np.full((n, 2), np.nan, np.float32)
        seg = renderer.render_segmentation(data, cam_id, self.geom_instance)
        if n == 0:
            return codes, boxes, points, seg
        culled = outside_view(self.model, data, cam_id, height, width)
        rects = [self._screen_rect(data, g, K, world_T_cam, height, width, culled) for g in self.object_geoms]
        in_view = [k for k in range(n) if rects[k] is not None]
        alone_px = np.zeros(n, np.int64)
        for group in _disjoint_groups(in_view, rects):
            alone = self._render_alone(renderer, data, cam_id, [self.object_geoms[k] for k in group])
            counts = np.bincount(alone.ravel(), minlength=len(group) + 1)
            for j, k in enumerate(group):
                alone_px[k] = counts[j + 1]
        for k in in_view:
            if alone_px[k] == 0:
                continue
            ys, xs = np.nonzero(seg == self.object_ids[k])
            if ys.size < VISIBLE_FRACTION * alone_px[k] or ys.size == 0:
                codes[k] = OCCLUDED
                continue
            codes[k] = VISIBLE
            boxes[k] = (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1)
            i = int(np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2))
            points[k] = (ys[i], xs[i])
        return codes, boxes, points, seg

    def _screen_rect(self, data, geoms, K, world_T_cam, height, width, culled):
        """A rectangle (y0, x0, y1, x1) that holds every pixel the object can cover, or None when
        no geom of it is in the view frustum."""
        if culled is not None and culled[geoms].all():
            return None
        centres = data.geom_xpos[geoms]
        radius = self.model.geom_rbound[geoms]
        cam = geometry.transform(geometry.invert(world_T_cam), centres)
        z = cam[:, 2]
        if np.any(z <= radius):  # a geom at or behind the camera plane: no tight bound, take the image
            return (0.0, 0.0, float(height), float(width))
        f = K[0, 0]
        u = f * cam[:, 0] / z + K[0, 2]
        v = f * cam[:, 1] / z + K[1, 2]
        # A sphere's image is an ellipse a little wider than f r / z off-axis: 1.5x and 2 px spare.
        r = 1.5 * f * radius / np.sqrt(np.maximum(z * z - radius * radius, 1e-9)) + 2
        y0, x0, y1, x1 = float((v - r).min()), float((u - r).min()), float((v + r).max()), float((u + r).max())
        if y1 < 0 or x1 < 0 or y0 > height or x0 > width:
            return None
        return (y0, x0, y1, x1)

    def _render_alone(self, renderer, data, cam_id: int, geoms_per_object: list[np.ndarray]) -> np.ndarray:
        """A segmentation render with only these objects drawn: label j + 1 for the j-th."""
        model = self.model
        hidden = np.flatnonzero(np.asarray(renderer.option.geomgroup) == 0)
        labels = np.zeros(model.ngeom, np.uint8)
        for j, geoms in enumerate(geoms_per_object):
            labels[geoms] = j + 1
        if hidden.size == 0:  # every group drawn: nothing to hide others in (objects never count as occluded)
            return renderer.render_segmentation(data, cam_id, labels)
        groups = model.geom_group.copy()
        try:
            # Park every other geom in a group the renderer does not draw (physics never reads it).
            model.geom_group[labels == 0] = int(hidden[-1])
            return renderer.render_segmentation(data, cam_id, labels)
        finally:
            model.geom_group[:] = groups


def _disjoint_groups(items: list[int], rects: list) -> list[list[int]]:
    """Greedy groups of objects whose screen rectangles do not overlap."""
    groups: list[list[int]] = []
    for k in items:
        for group in groups:
            if all(not _overlap(rects[k], rects[j]) for j in group) and len(group) < 254:
                group.append(k)
                break
        else:
            groups.append([k])
    return groups


def _overlap(a, b) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])
