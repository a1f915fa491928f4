import numpy as np
import pytest

from simfarm.errors import RandomizationError
from simfarm.randomization import choice, log_uniform, normal, parse_param, uniform


def test_same_seed_gives_identical_draws():
    spec = parse_param({"dist": "normal", "mean": 1.0, "std": 0.1}, "p")
    a = spec.sample(np.random.default_rng(3), 100)
    b = spec.sample(np.random.default_rng(3), 100)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, spec.sample(np.random.default_rng(4), 100))


def test_uniform_and_log_uniform_stay_within_bounds():
    rng = np.random.default_rng(0)
    u = uniform(0.8, 1.2).sample(rng, 5000)
    assert u.shape == (5000, 1) and u.min() >= 0.8 and u.max() <= 1.2
    assert abs(u.mean() - 1.0) < 0.01
    lu = log_uniform(0.5, 2.0).sample(rng, 5000)
    assert lu.min() >= 0.5 and lu.max() <= 2.0
    # Log-uniform: as many draws below 1 as above (the geometric centre of [0.5, 2]).
    assert abs((lu < 1.0).mean() - 0.5) < 0.03


def test_normal_statistics_and_clip():
    rng = np.random.default_rng(1)
    x = normal(2.0, 0.5).sample(rng, 20000)
    assert abs(x.mean() - 2.0) < 0.02 and abs(x.std() - 0.5) < 0.02
    clipped = normal(0.0, 1.0, clip=(-0.5, None)).sample(rng, 5000)
    assert clipped.min() == -0.5 and clipped.max() > 1.0


def test_per_axis_vectors_draw_each_axis_in_its_range():
    d = uniform([0.0, 10.0, -1.0], [1.0, 11.0, -0.5])
    x = d.sample(np.random.default_rng(2), 1000)
    assert x.shape == (1000, 3)
    assert (x[:, 0] <= 1).all() and (x[:, 1] >= 10).all() and (x[:, 2] <= -0.5).all()


def test_choice_draws_only_listed_values_with_their_probabilities():
    x = choice([0, 1, 2], probs=[0.5, 0.5, 0.0]).sample(np.random.default_rng(0), 4000)
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert abs((x == 0).mean() - 0.5) < 0.03


def test_modes_scale_add_and_replace_the_nominal_value():
    nominal = np.array([[2.0], [4.0]])
    draw = np.array([[1.5], [0.5]])
    assert parse_param({"dist": "constant", "value": 1, "mode": "scale"}, "p").combine(nominal, draw).tolist() == [[3.0], [2.0]]
    assert parse_param({"dist": "constant", "value": 1, "mode": "add"}, "p").combine(nominal, draw).tolist() == [[3.5], [4.5]]
    assert parse_param({"dist": "constant", "value": 1, "mode": "absolute"}, "p").combine(nominal, draw).tolist() == [[1.5], [0.5]]


def test_shared_draws_one_value_for_every_element():
    spec = parse_param({"dist": "uniform", "low": 0, "high": 1, "shared": True}, "p")
    x = spec.sample(np.random.default_rng(0), 10)
    assert np.all(x == x[0])


def test_scalar_distribution_draws_independent_axes_when_asked():
    spec = parse_param({"dist": "uniform", "low": -1, "high": 1}, "p", axes=3)
    x = spec.sample(np.random.default_rng(0), 50, axes=3)
    assert x.shape == (50, 3) and not np.allclose(x[:, 0], x[:, 1])


def test_bare_number_is_a_constant():
    spec = parse_param(0.25, "p")
    assert spec.dist.name == "constant"
    assert spec.sample(np.random.default_rng(0), 3).ravel().tolist() == [0.25] * 3


@pytest.mark.parametrize(
    "cfg, fragments",
    [
        ({"dist": "unifrom", "low": 0, "high": 1}, ["physical.object_mass.dist", "unifrom", "uniform", "log_uniform", "normal", "choice"]),
        ({"low": 0, "high": 1}, ["physical.object_mass.dist", "missing", "uniform"]),
        ({"dist": "uniform", "low": 0}, ["physical.object_mass.high", "missing"]),
        ({"dist": "uniform", "low": 0, "high": 1, "hi": 2}, ["physical.object_mass.hi", "unknown field", "low, high"]),
        ({"dist": "uniform", "low": 0, "high": 1, "mode": "relative"}, ["physical.object_mass.mode", "relative", "absolute, add, scale"]),
        ({"dist": "log_uniform", "low": 0, "high": 1}, ["physical.object_mass.low", "low > 0"]),
        ({"dist": "uniform", "low": 2, "high": 1}, ["physical.object_mass", "below low"]),
        ({"dist": "normal", "mean": 0, "std": -1}, ["physical.object_mass.std", ">= 0"]),
        ({"dist": "choice", "values": []}, ["physical.object_mass.values", "non-empty"]),
        ({"dist": "choice", "values": [1, 2], "probs": [0.9, 0.2]}, ["physical.object_mass.probs", "summing to 1"]),
        ({"dist": "uniform", "low": [0, 0], "high": [1, 1]}, ["physical.object_mass", "2 axes"]),
        ({"dist": "uniform", "low": "a", "high": 1}, ["physical.object_mass.low", "'a'"]),
        ("uniform", ["physical.object_mass", "expected a mapping"]),
    ],
)
def test_bad_distribution_errors_name_the_parameter_path_and_accepted_values(cfg, fragments):
    with pytest.raises(RandomizationError) as err:
        parse_param(cfg, "randomization.physical.object_mass", axes=1)
    for fragment in fragments:
        assert fragment in str(err.value)
