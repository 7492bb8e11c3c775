"""SQLPolicy(action_bounding="clip"), the 2017 code's scheme, beside the default "squash" (2018 code):
actions in the box, the bounded SVGD score, determinism, save/load, and a bad value rejected."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th

import softq  # noqa: F401  (registers the env ids)
from softq import SQL
from softq.policies import INPUT_BOUNDS_SLOPE, input_bounds_score

CLIP = dict(learning_starts=50, batch_size=16, policy_kwargs=dict(net_arch=[32, 32], action_bounding="clip"))


def _model(seed: int = 0) -> SQL:
    return SQL("MlpPolicy", gym.make("softq/MultiGoal-v0"), seed=seed, reward_scale=0.1, **CLIP)


def test_input_bounds_score_known_values():
    actions = th.tensor([[0.5, -0.2], [1.5, 0.3], [-1.2, -2.0], [1.0, -1.0]])
    q_gradient = th.full_like(actions, 7.0)
    score = input_bounds_score(actions, q_gradient)
    expected = th.tensor(
        [
            [7.0, 7.0],  # inside: Q's gradient
            [-INPUT_BOUNDS_SLOPE, 0.0],  # outside in x only: pushed back along x, nothing along y
            [INPUT_BOUNDS_SLOPE, INPUT_BOUNDS_SLOPE],  # outside in both: pushed back in both
            [7.0, 7.0],  # on the edge counts as inside
        ]
    )
    assert th.equal(score, expected)


def test_sampler_is_unsquashed_and_actions_are_clipped():
    model = _model()
    with th.no_grad():  # make the raw output leave the box
        model.policy.sampler.net[-1].bias.fill_(3.0)
    obs = np.array([[1.0, -2.0]], dtype=np.float32)
    raw = model.policy.sampler(th.as_tensor(obs), th.zeros(1, 2))
    assert (raw > 1.0).all()  # no tanh
    action, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(action, [[1.0, 1.0]])
    stochastic = np.stack([model.predict(obs, deterministic=False)[0] for _ in range(20)])
    assert np.abs(stochastic).max() <= 1.0


def test_svgd_pulls_particles_outside_the_box_back_in():
    """With the raw output far outside the box, SVGD steps alone bring the sampler's actions back inside."""
    model = _model()
    with th.no_grad():
        model.policy.sampler.net[-1].bias.fill_(3.0)
    obs = th.zeros(16, 2)
    model.policy.sampler_optimizer.param_groups[0]["lr"] = 1e-2
    for _ in range(300):
        loss = model.svgd_loss(obs)
        model.policy.sampler_optimizer.zero_grad()
        loss.backward()
        model.policy.sampler_optimizer.step()
    with th.no_grad():
        raw = model.policy.sampler(obs[:1], th.randn(200, 2))
    assert (raw.abs() <= 1.05).float().mean() > 0.9


def test_fixed_seed_gives_identical_parameters():
    def train(seed):
        model = _model(seed)
        model.learn(150)
        return th.cat([p.detach().flatten() for p in model.policy.parameters()])

    first, second, other = train(3), train(3), train(4)
    assert th.equal(first, second) and not th.equal(first, other)


def test_save_load_keeps_the_bounding(tmp_path):
    model = _model()
    model.learn(60)
    model.save(tmp_path / "model")
    loaded = SQL.load(tmp_path / "model", env=gym.make("softq/MultiGoal-v0"))
    assert loaded.policy.action_bounding == "clip" and not loaded.policy.sampler.squash
    obs = np.array([[0.5, 0.5]], dtype=np.float32)
    np.testing.assert_array_equal(
        model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0]
    )


def test_unknown_bounding_rejected():
    with pytest.raises(ValueError, match="action_bounding"):
        SQL("MlpPolicy", "softq/MultiGoal-v0", reward_scale=0.1, policy_kwargs=dict(action_bounding="tanh"))
