from pathlib import Path

import numpy as np
import pytest
import yaml

from simfarm.errors import ConfigError
from simfarm.paths import procgen_dir
from simfarm.scene import load_catalog, load_program, sample_scene


def _write_program(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load((procgen_dir() / "rooms" / "kitchen.yaml").read_text())
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    "changes, pattern",
    [
        ({"rooms__count": [3, 1]}, r"rooms\.count: expected \[min, max\] integers"),
        ({"rooms__count": [1, 9]}, r"rooms\.count: expected .* within \[1, 4\]"),
        ({"rooms__width_m": "big"}, r"rooms\.width_m: expected \[min, max\] numbers"),
        ({"furniture__0__kind": "piano"}, r"furniture\[0\]\.kind: expected one of .*cabinet.*got 'piano'"),
        ({"furniture__0__placement": "ceiling"}, r"furniture\[0\]\.placement: expected one of center, corner, wall"),
        ({"objects__0__families": ["mug", "unicorn"]}, r"objects\[0\]\.families: expected one of .*got 'unicorn'"),
        ({"objects__0__place_on": ["chair"]}, r"objects\[0\]\.place_on: expected furniture kinds with support surfaces"),
        ({"styles": ["neon"]}, r"styles: expected one of .*got 'neon'"),
        ({"lights": None}, r"lights: missing required key"),
        ({"colour": "red"}, r"colour: unknown key; accepted: "),
        ({"workspace__drawer": ["sofa", 3]}, r"workspace\.drawer: expected a non-empty list of names"),
    ],
)
def test_malformed_program_error_names_file_key_and_expectation(tmp_path, changes, pattern):
    path = _write_program(tmp_path, **changes)
    with pytest.raises(ConfigError, match=pattern) as info:
        load_program(path)
    assert str(path) in str(info.value)


def test_yaml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nrooms: [1, 2\n")
    with pytest.raises(ConfigError, match="broken.yaml: malformed YAML"):
        load_program(path)


def test_unknown_program_lists_accepted_names():
    with pytest.raises(ConfigError, match=r"unknown room program 'garden'; accepted: bathroom, bedroom, kitchen, living_room, .*workshop"):
        load_program("garden")


def test_a_new_room_type_needs_only_a_yaml_file(tmp_path):
    path = tmp_path / "office.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "office",
                "rooms": {"count": [1, 1], "width_m": [4, 4.5], "depth_m": [4, 4.5], "wall_height_m": [2.5, 2.6]},
                "styles": ["scandi"],
                "lights": {"per_room": [1, 1], "intensity": [0.5, 0.5]},
                "workspace": {"surface": ["table"]},
                "furniture": [{"kind": "table", "placement": "center", "count": [1, 1]},
                              {"kind": "shelf", "placement": "wall", "count": [1, 1]}],
                "objects": [{"place_on": ["table"], "families": ["book", "mug"], "count": [2, 3]}],
            }
        )
    )
    spec = sample_scene(path, np.random.default_rng(0))
    assert spec.program == "office"
    assert {f.kind for f in spec.furniture} >= {"table", "shelf"}
    assert {o.family for o in spec.workspace_objects()} <= {"book", "mug"}


def test_catalogs_meet_the_minimum_contents():
    cat = load_catalog()
    assert {"table", "counter", "shelf", "cabinet", "chair", "sofa", "workbench", "trolley"} <= set(cat.furniture)
    assert len(cat.families) >= 10
    assert {f for f, fam in cat.families.items() if fam.receptacle} >= {"bowl", "plate", "box"}
    assert len(cat.palettes) >= 10
    assert {"red", "green", "blue", "yellow"} <= set(cat.colors)


def test_the_three_required_programs_exist():
    from simfarm.scene import available_programs

    assert {"kitchen", "living_room", "workshop"} <= set(available_programs())
