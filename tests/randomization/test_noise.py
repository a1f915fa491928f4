import numpy as np
import pytest
from gymnasium import spaces

from simfarm.randomization import ActionDelay, SensorNoise, load_preset, noisy_action


@pytest.mark.parametrize("k", [0, 1, 3])
def test_action_delay_delays_by_exactly_k_steps(k):
    delay = ActionDelay(k)
    actions = [np.array([float(t), -float(t)]) for t in range(10)]
    out = [delay.push(a) for a in actions]
    for t in range(10):
        expected = actions[max(t - k, 0)]  # before k actions exist, the first one is held
        assert np.array_equal(out[t], expected), (t, out[t], expected)


def test_action_delay_uses_the_given_initial_action_and_resets():
    delay = ActionDelay(2, initial=np.zeros(2))
    assert np.array_equal(delay.push(np.ones(2)), np.zeros(2))
    assert np.array_equal(delay.push(np.full(2, 2.0)), np.zeros(2))
    assert np.array_equal(delay.push(np.full(2, 3.0)), np.ones(2))
    delay.reset()
    assert np.array_equal(delay.push(np.full(2, 5.0)), np.zeros(2))


def test_image_noise_has_the_asked_std_and_stays_uint8_in_range():
    noise = SensorNoise(image_std=4.0)
    img = np.full((224, 224, 3), 128, dtype=np.uint8)
    out = noise.noisy_image(img, np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == img.shape
    diff = out.astype(np.float64) - 128
    assert abs(diff.mean()) < 0.05 and abs(diff.std() - 4.0) < 0.1
    dark = noise.noisy_image(np.zeros((64, 64, 3), np.uint8), np.random.default_rng(1))
    bright = noise.noisy_image(np.full((64, 64, 3), 255, np.uint8), np.random.default_rng(1))
    assert dark.min() == 0 and dark.max() > 0 and bright.max() == 255 and bright.min() < 255


def test_image_noise_writes_into_out_and_is_reproducible():
    noise = SensorNoise(image_std=3.0)
    img = np.random.default_rng(5).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    out = np.empty_like(img)
    result = noise.noisy_image(img, np.random.default_rng(9), out=out)
    assert result is out
    assert np.array_equal(out, noise.noisy_image(img, np.random.default_rng(9)))
    assert not np.array_equal(out, img)


def test_zero_noise_returns_the_input_unchanged():
    img = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    state = np.arange(5, dtype=np.float32)
    none = load_preset("none")
    assert none.noisy_image(img, np.random.default_rng(0)) is img
    assert none.noisy_state(state, np.random.default_rng(0)) is state


def test_state_noise_statistics_and_dtype():
    noise = SensorNoise(state_std=0.01)
    state = np.zeros(20000, dtype=np.float32)
    noisy = noise.noisy_state(state, np.random.default_rng(0))
    assert noisy.dtype == np.float32
    assert abs(noisy.std() - 0.01) < 0.0005 and abs(noisy.mean()) < 0.0005


def test_action_noise_is_relative_to_the_range_and_clipped_to_it():
    low, high = np.array([-1.0, 0.0]), np.array([1.0, 10.0])
    rng = np.random.default_rng(0)
    actions = np.array([noisy_action(np.array([0.0, 5.0]), low, high, rng, std=0.05) for _ in range(5000)])
    assert abs(actions[:, 0].std() - 0.1) < 0.01  # 5% of a range of 2
    assert abs(actions[:, 1].std() - 0.5) < 0.05  # 5% of a range of 10
    edge = np.array([noisy_action(np.array([1.0, 10.0]), low, high, rng, std=0.5) for _ in range(200)])
    assert (edge <= high).all() and (edge >= low).all()


def test_timing_noise_delays_then_perturbs_and_is_reproducible():
    preset = load_preset({"timing": {"action_delay_steps": 1, "action_noise_std": 0.01}})
    box = spaces.Box(-1.0, 1.0, (2,), np.float32)
    actions = [np.full(2, 0.1 * t, dtype=np.float32) for t in range(6)]
    a = [preset.make_timing(box, np.random.default_rng(3)).apply(x) for x in actions[:1]]
    t1, t2 = preset.make_timing(box, np.random.default_rng(3)), preset.make_timing(box, np.random.default_rng(3))
    out1 = [t1.apply(x) for x in actions]
    out2 = [t2.apply(x) for x in actions]
    assert all(np.array_equal(x, y) for x, y in zip(out1, out2, strict=True))
    assert a[0].dtype == np.float32
    # Step t applies action t-1 (plus noise of 1% of the range).
    for t in range(1, 6):
        assert np.abs(out1[t] - actions[t - 1]).max() < 0.1
        assert not np.array_equal(out1[t], actions[t - 1])


def test_image_noise_table_matches_rounded_gaussian_probabilities():
    import math

    from simfarm.randomization.noise import gaussian_table

    std = 3.0
    table = gaussian_table(std)
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    for k in range(-6, 7):
        expected = phi((k + 0.5) / std) - phi((k - 0.5) / std)
        assert abs(np.mean(table == k) - expected) <= 2 / len(table)


def test_image_noise_draws_fresh_values_per_frame_and_for_any_size():
    noise = SensorNoise(image_std=3.0)
    rng = np.random.default_rng(2)
    img = np.full((5, 7, 3), 100, dtype=np.uint8)  # 105 values: not a whole number of 64-bit draws
    first, second = noise.noisy_image(img, rng), noise.noisy_image(img, rng)
    assert first.shape == img.shape and not np.array_equal(first, second)
    big = noise.noisy_image(np.full((256, 256, 3), 128, np.uint8), rng).astype(np.float64) - 128
    # neighbouring values (which share a 64-bit draw) are uncorrelated
    flat = big.ravel()
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 0.02
