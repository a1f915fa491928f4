"""Lighting that reads like a room: warm/cool fixtures, a window light within the renderer's light
limit, and workspace frames that are never black or blown out."""

from __future__ import annotations

import numpy as np
import pytest

from simfarm.randomization.model import ModelRandomizer
from simfarm.render import GL_MAX_LIGHTS, CameraRenderer
from simfarm.scene import build_scene, sample_scene
from simfarm.scene.catalog import available_programs
from simfarm.scene.source import load_scene_source
from simfarm.scene.textures import (
    BRIGHTNESS_RANGE,
    MAX_CLIPPED,
    MAX_MODEL_LIGHTS,
    MIN_CONTRAST,
    frame_stats,
    kelvin_to_rgb,
)


def test_colour_temperature_runs_from_warm_to_cool():
    warm, neutral, day = kelvin_to_rgb(2700), kelvin_to_rgb(4000), kelvin_to_rgb(6500)
    assert warm[0] == 1.0 and warm[0] > warm[1] > warm[2] > 0.3
    assert warm[2] < neutral[2] < day[2]
    assert max(day) == 1.0 and min(day) > 0.9  # daylight is nearly white
    assert kelvin_to_rgb(10000)[2] == 1.0 and kelvin_to_rgb(10000)[0] < 0.9  # sky: blue


@pytest.mark.parametrize("program", ["kitchen", "living_room", "workshop"])
def test_ceiling_lights_are_tinted_and_the_window_light_fits_the_light_limit(program):
    tints = set()
    for seed in range(8):
        spec = sample_scene(program, np.random.default_rng(seed))
        ceiling = [li for li in spec.lights if li.name.startswith("light_")]
        windows = [li for li in spec.lights if li.name.startswith("window_")]
        assert ceiling and all(li.ambient[0] > 0 for li in ceiling)
        assert len(windows) <= 1
        if windows:
            assert len(spec.lights) <= MAX_MODEL_LIGHTS == GL_MAX_LIGHTS - 1  # the headlight takes one
            assert windows[0].dir[2] < 0  # into the room and down
        r, g, b = ceiling[0].diffuse
        tints.add("warm" if r > b * 1.2 else "cool" if b >= r * 0.95 else "neutral")
    assert len(tints) >= 2  # scenes differ in colour temperature


def test_workspace_frames_are_neither_black_nor_blown_out():
    names = (*available_programs(), "tabletop")
    sources = [load_scene_source(n) for n in names]
    renderer = None
    failures = []
    try:
        for i in range(20):
            source = sources[i % len(sources)]
            built = build_scene(source.sample(np.random.default_rng([0, i])))
            ModelRandomizer(built.model, "light").apply(built.model, np.random.default_rng([0, i, 1]))
            if renderer is None:
                renderer = CameraRenderer(built.model, 96, 96)
            else:
                renderer.set_model(built.model)
            stats = frame_stats(renderer.render(built.initial_state(), "workspace"))
            lo, hi = BRIGHTNESS_RANGE
            if not (lo <= stats["brightness"] <= hi and stats["contrast"] >= MIN_CONTRAST and stats["clipped"] <= MAX_CLIPPED):
                failures.append((source.name, i, stats))
    finally:
        if renderer is not None:
            renderer.close()
    assert not failures, failures
