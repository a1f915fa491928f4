"""Job config: Hydra composition, shorthands, validation before any work, content hash, seeding."""

import numpy as np
import pytest

from simfarm import config as C
from simfarm.errors import ConfigError
from simfarm.seeding import episode_seeds


def test_shorthands_expand_into_a_group_choice_and_its_parameter():
    assert C.expand_shorthands(["policy=python:pkg.mod:Pol", "robot=menagerie:franka_emika_panda", "seed=3"]) == [
        "policy=python", "policy.spec=python:pkg.mod:Pol",
        "robot=menagerie", "robot.name=menagerie:franka_emika_panda", "seed=3",
    ]
    cfg = C.compose("generate", ["policy=remote:ws://127.0.0.1:8765"])
    assert cfg.policy.spec == "remote:ws://127.0.0.1:8765"


def test_unknown_key_names_the_key_and_the_accepted_ones():
    with pytest.raises(ConfigError, match=r"^episdoes: unknown key 'episdoes' \(did you mean 'episodes'\?\); accepted: .*episodes"):
        C.compose("generate", ["episdoes=3"])


def test_unknown_group_option_lists_the_available_ones():
    from simfarm.paths import configs_dir

    tasks = ", ".join(sorted(p.stem for p in (configs_dir() / "task").glob("*.yaml")))
    with pytest.raises(ConfigError, match=rf"^task: unknown option 'juggle'; accepted: {tasks}$"):
        C.compose("generate", ["task=juggle"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["episodes=0"], "episodes: must be an integer >= 1"),
        (["obs_mode=depth+sonar"], "obs_mode: unknown part 'sonar' in 'depth\\+sonar'; accepted: parts rgb, depth, segmentation, pointcloud, state"),
        (["camera_size=[224]"], "camera_size: must be \\[height, width\\]"),
        (["split=holdout"], "split: got 'holdout'; accepted: train, test, valid"),
        (["task=push_trolley"], "push_trolley needs a mobile base; 'panda' has none"),
        (["task=pick_place", "robot=mobile_base"], "pick_place needs a robot with an arm"),
        (["robot=mobile_base", "task=push_trolley", "control_mode=ee_delta"], "control_mode"),
        (["robot=octopus"], "octopus"),
        (["scene=garage"], "garage"),
        (["randomization.physical.object_mas.dist=uniform"], "object_mas"),
    ],
)
def test_bad_configs_fail_validation_with_the_offending_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        C.validate(C.compose("generate", overrides))


def test_default_configs_validate():
    C.validate(C.compose("generate"))
    C.validate(C.compose("generate", ["task=push_trolley", "robot=mobile_base"]))


def test_config_hash_ignores_where_and_how_fast_a_job_runs():
    a = C.compose("generate", ["workers=1", "output=/tmp/a"])
    b = C.compose("generate", ["workers=2", "output=/tmp/b", "overwrite=true"])
    c = C.compose("generate", ["seed=1"])
    assert C.config_hash(a) == C.config_hash(b)
    assert C.config_hash(a) != C.config_hash(c)


def test_episode_streams_are_independent_of_order_and_differ_by_split():
    first = episode_seeds(7, 3).task.random(4)
    for _ in range(3):
        episode_seeds(7, 2).task.random(4)  # another episode's draws do not shift this one's
    assert np.array_equal(first, episode_seeds(7, 3).task.random(4))
    assert not np.array_equal(first, episode_seeds(7, 3, split="test").task.random(4))
    s = episode_seeds(7, 3)
    assert len({float(g.random()) for g in (s.scene, s.randomization, s.task, s.policy, s.sensor)}) == 5
