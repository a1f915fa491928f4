import dataclasses
import json

import numpy as np
import pytest

from simfarm.errors import SceneError
from simfarm.scene import SceneSpec, sample_scene


@pytest.mark.parametrize("program", ["kitchen", "living_room", "workshop"])
def test_json_round_trip_is_lossless(program):
    spec = sample_scene(program, np.random.default_rng(3))
    again = SceneSpec.from_json(spec.to_json())
    assert again == spec
    assert again.to_json() == spec.to_json()
    assert again.content_hash() == spec.content_hash()


def test_floats_survive_exactly():
    spec = sample_scene("kitchen", np.random.default_rng(4))
    awkward = dataclasses.replace(spec.objects[0], mass_kg=0.1 + 0.2, pos=(1 / 3, 2 / 7, np.nextafter(0.5, 1.0)))
    spec = dataclasses.replace(spec, objects=(awkward, *spec.objects[1:]))
    back = SceneSpec.from_json(spec.to_json()).objects[0]
    assert back.mass_kg == 0.1 + 0.2
    assert back.pos == (1 / 3, 2 / 7, float(np.nextafter(0.5, 1.0)))


def test_content_hash_is_stable_and_sensitive():
    spec = sample_scene("workshop", np.random.default_rng(5))
    assert spec.content_hash() == sample_scene("workshop", np.random.default_rng(5)).content_hash()
    moved = dataclasses.replace(spec.objects[0], pos=(spec.objects[0].pos[0] + 1e-9, *spec.objects[0].pos[1:]))
    assert dataclasses.replace(spec, objects=(moved, *spec.objects[1:])).content_hash() != spec.content_hash()
    assert len(spec.content_hash()) == 64


def test_json_is_canonical_with_sorted_keys():
    spec = sample_scene("kitchen", np.random.default_rng(6))
    text = spec.to_json()
    assert text == json.dumps(json.loads(text), sort_keys=True)


def test_malformed_spec_json_names_the_key():
    data = json.loads(sample_scene("kitchen", np.random.default_rng(1)).to_json())
    data["objects"][0]["mass_kg"] = "heavy"
    with pytest.raises(SceneError, match=r"spec\.objects\[0\]\.mass_kg: expected a number"):
        SceneSpec.from_dict(data)
    data = json.loads(sample_scene("kitchen", np.random.default_rng(1)).to_json())
    data["bogus"] = 1
    with pytest.raises(SceneError, match="spec.bogus: unknown key"):
        SceneSpec.from_dict(data)


def test_spec_records_program_seed_robot_and_workspace():
    spec = sample_scene("living_room", np.random.default_rng(11))
    assert spec.program == "living_room"
    assert spec.seed == (11,)
    assert spec.robot.name == "panda"
    assert spec.workspace in {f.name for f in spec.furniture}
    for obj in spec.objects:
        assert obj.support.startswith("furn/") and "/surface_" in obj.support
        assert obj.color and obj.category and obj.mass_kg > 0
