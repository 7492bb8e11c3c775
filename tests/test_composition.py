"""Composition (beyond the paper; Haarnoja et al., ICRA 2018): the multi-goal sub-tasks, averaging soft Q
functions, a fitted sampler that concentrates where both constituents are high, and the experiment."""

import json
import math

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch as th
from gymnasium import spaces

from experiments import layout
from experiments.cli import main
from experiments.tasks.composition import LABELS
from experiments.tasks.composition.figures import figure
from softq import SQL
from softq.composition import AverageQ, compose, compose_sql, replay_observations
from softq.envs.multigoal import GOALS, MultiGoalEnv, goal_indices, subset_reward_surface
from softq.policies import QNetwork

RIGHT, LEFT, UP, DOWN = range(4)


# --- sub-task envs ---------------------------------------------------------------------------------


def _trajectory(env_id, actions, start=(0.0, 0.0), **kwargs):
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0, options={"position": start})
    out = []
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(np.asarray(action))
        out.append((tuple(obs), reward, terminated, info["goal"]))
        if terminated or truncated:
            break
    return out


def test_multigoal_v0_is_unchanged_and_equals_the_all_goal_subset():
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(30, 2))
    actions[:6] = [1.0, 0.0]  # reaches the right goal: +10 and done
    v0 = _trajectory("softq/MultiGoal-v0", actions)
    assert v0[-1][2] and v0[-1][3] == RIGHT
    last_obs, reward, _, _ = v0[-1]
    a = np.clip(actions[len(v0) - 1], -1, 1)
    assert reward == pytest.approx(-30 * a @ a - np.sum((np.array(last_obs) - GOALS[RIGHT]) ** 2) + 10.0)
    assert _trajectory("softq/MultiGoalSubset-v0", actions, goals=["right", "left", "up", "down"]) == v0
    assert MultiGoalEnv().goals is None


def test_subtask_rewards_and_ends_only_at_its_goals():
    # From (-4.5, 0), one step left reaches the left goal: the end in MultiGoal-v0, an ordinary place in
    # RightUp, whose nearest rewarded goal is up at distance sqrt(50).
    left = _trajectory("softq/MultiGoalRightUp-v0", [[-0.5, 0.0]], start=(-4.5, 0.0))
    assert left == [((-5.0, 0.0), pytest.approx(-30 * 0.25 - 50.0), False, -1)]
    up = _trajectory("softq/MultiGoalUpLeft-v0", [[0.0, 0.5]], start=(0.0, 4.0))
    assert up == [((0.0, 4.5), pytest.approx(-30 * 0.25 - 0.25 + 10.0), True, UP)]
    assert goal_indices(["up", "left"]) == (LEFT, UP) == goal_indices([2, 1])
    with pytest.raises(ValueError, match="unknown goal"):
        MultiGoalEnv(goals=["north"])


def test_subset_reward_surface_by_hand():
    p = np.array([3.0, 4.0])  # to right (5,0): 4 + 16 = 20; to up (0,5): 9 + 1 = 10; to left: 64 + 16 = 80
    assert subset_reward_surface(p, ["right"]) == pytest.approx(-20.0)
    assert subset_reward_surface(p, ["right", "up"]) == pytest.approx(-10.0)
    assert subset_reward_surface(p, ["left"]) == pytest.approx(-80.0)


# --- composing Q functions: a known case ---------------------------------------------------------

SIGMA = 0.15
A_RIGHT, A_UP, A_LEFT = (0.6, 0.0), (0.0, 0.6), (-0.6, 0.0)


def _two_bumps(first, second):
    """Soft Q whose Boltzmann policy is an equal mixture of two narrow Gaussians in the action square."""
    centres = th.tensor([first, second])

    def q(features, actions):
        sq = ((actions[..., None, :] - centres) ** 2).sum(-1)
        return th.logsumexp(-sq / (2 * SIGMA**2), dim=-1) + 0.0 * features.sum(-1)

    return q


Q_A = _two_bumps(A_RIGHT, A_UP)  # constituent A: right or up
Q_B = _two_bumps(A_UP, A_LEFT)  # constituent B: up or left


def _near(actions, centre):
    return ((actions - th.tensor(centre)).norm(dim=-1) < 0.25).float().mean().item()


def _boltzmann_mass_near(q, centre, n=201):
    """Mass of exp(Q(a)) within 0.25 of ``centre`` on the action square, by grid integration."""
    axis = th.linspace(-1, 1, n)
    grid = th.stack(th.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    density = th.exp(q(th.zeros(len(grid), 1), grid))
    return (density * ((grid - th.tensor(centre)).norm(dim=-1) < 0.25)).sum().item() / density.sum().item()


# Mass of a 2-D Gaussian (std SIGMA per axis) within 0.25 of its centre:
# 1 - exp(-0.25^2 / (2 SIGMA^2)) = 0.751.
IN_RADIUS = 1 - math.exp(-(0.25**2) / (2 * SIGMA**2))


def _q_c(features, actions):
    return (Q_A(features, actions) + Q_B(features, actions)) / 2


def test_each_constituent_alone_splits_between_two_modes():
    """The premise of the known case: each constituent's Boltzmann policy puts half of its mass on the
    mode it does not share, and exp(Q_C) = sqrt(p_A p_B) is one Gaussian at the shared mode."""
    for q, other in ((Q_A, A_RIGHT), (Q_B, A_LEFT)):
        assert _boltzmann_mass_near(q, A_UP) == pytest.approx(IN_RADIUS / 2, abs=0.01)
        assert _boltzmann_mass_near(q, other) == pytest.approx(IN_RADIUS / 2, abs=0.01)
    assert _boltzmann_mass_near(_q_c, A_UP) == pytest.approx(
        IN_RADIUS, abs=0.02
    )  # the far bumps widen it a little
    assert _boltzmann_mass_near(_q_c, A_RIGHT) < 0.005


@pytest.mark.parametrize("seed", [0, 1])
def test_composed_sampler_concentrates_where_both_q_functions_are_high(seed):
    """exp((Q_A + Q_B) / 2) = sqrt(p_A p_B) is one Gaussian at the shared mode 'up' (the other modes are
    suppressed by exp(-8)); the sampler fitted by amortized SVGD alone must put its mass there."""
    policy = compose(
        [Q_A, Q_B],
        spaces.Box(-1, 1, (1,)),
        spaces.Box(-1, 1, (2,)),
        np.zeros((16, 1), np.float32),
        n_updates=1000,
        batch_size=8,
        kernel_n_particles=64,
        learning_rate=3e-3,
        net_arch=[64, 64],
        seed=seed,
    )
    with th.no_grad():
        actions = policy.sampler(th.zeros(2000, 1), th.randn(2000, 2))
    assert _near(actions, A_UP) == pytest.approx(
        IN_RADIUS, abs=0.15
    )  # vs IN_RADIUS / 2 = 0.38 for A or B alone
    assert _near(actions, A_RIGHT) < 0.02 and _near(actions, A_LEFT) < 0.02
    acted, _ = policy.predict(
        np.zeros((500, 1), np.float32), deterministic=False
    )  # the policy API acts the same
    assert _near(th.as_tensor(acted), A_UP) == pytest.approx(IN_RADIUS, abs=0.15)


def test_average_q_is_the_weighted_mean_and_leaves_the_constituents_alone():
    th.manual_seed(0)
    qa, qb = QNetwork(3, 2, [8], th.nn.ReLU), QNetwork(3, 2, [8], th.nn.ReLU)
    features, actions = th.randn(5, 3), th.rand(5, 2) * 2 - 1
    mean = AverageQ([qa, qb])
    assert th.allclose(mean(features, actions), (qa(features, actions) + qb(features, actions)) / 2)
    weighted = AverageQ([qa, qb], weights=[0.25, 0.75])
    assert th.allclose(
        weighted(features, actions), 0.25 * qa(features, actions) + 0.75 * qb(features, actions)
    )
    assert all(p.requires_grad for p in qa.parameters())  # copies are frozen, not the constituents
    assert not any(p.requires_grad for p in mean.parameters())
    with pytest.raises(ValueError, match="weights"):
        AverageQ([qa, qb], weights=[1.0])


def test_compose_sql_uses_replay_states_and_checks_the_temperature():
    env = gym.make("softq/MultiGoal-v0")
    tiny = dict(learning_starts=20, batch_size=16, policy_kwargs=dict(net_arch=[16, 16]), reward_scale=0.1)
    a, b = SQL("MlpPolicy", env, seed=0, **tiny), SQL("MlpPolicy", env, seed=1, **tiny)
    a.learn(30)
    b.learn(40)
    assert replay_observations(a).shape == (30, 2)
    policy = compose_sql([a, b], n_updates=3, batch_size=4, seed=0)
    obs = th.zeros(1, 2)
    assert th.allclose(
        policy.qf(obs, th.zeros(1, 2)),
        (a.policy.qf(obs, th.zeros(1, 2)) + b.policy.qf(obs, th.zeros(1, 2))) / 2,
    )
    assert policy.net_arch == [16, 16]
    hot = SQL("MlpPolicy", env, seed=2, **{**tiny, "reward_scale": 1.0})
    with pytest.raises(ValueError, match="one temperature"):
        compose_sql([a, hot])


# --- the experiment ----------------------------------------------------------------------------------


def test_composition_smoke_trains_constituents_then_composes(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "composition", "--profile", "smoke", "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "finished  composition seed 0" in printed
    for env in ("softq/MultiGoalRightUp-v0", "softq/MultiGoalUpLeft-v0"):
        assert (
            layout.run_dir(out, "composition", env, "sql", 0) / layout.ARTIFACTS / layout.WEIGHTS
        ).exists()
    for label in LABELS:
        folder = layout.run_dir(out, "composition", "softq/MultiGoal-v0", label, 0)
        progress = pd.read_csv(folder / layout.PROGRESS)
        assert len(progress) == 1
        fractions = progress[
            [c for c in progress.columns if c.startswith("goal_fraction_")] + ["no_goal_fraction"]
        ]
        assert math.isclose(fractions.sum(axis=1).iloc[0], 1.0)
        assert progress["shared_goal_fraction"].iloc[0] == progress["goal_fraction_up"].iloc[0]
        rollouts = pd.read_csv(folder / layout.ARTIFACTS / "rollouts.csv")
        assert rollouts["rollout"].nunique() == 50 and (rollouts.query("t == 0")[["x", "y"]] == 0).all().all()
        manifest = json.loads((folder / layout.MANIFEST).read_text())
        assert (
            set(manifest["git"]) == {"commit", "dirty"}
            and manifest["versions"]["torch"]
            and manifest["hardware"]
        )
        assert len(manifest["composition"]["constituent_git"]) == (2 if label == "composed" else 1)
    composed = layout.run_dir(out, "composition", "softq/MultiGoal-v0", "composed", 0)
    assert pd.read_csv(composed / layout.PROGRESS)[layout.STEP].iloc[0] == 2 * 200  # both constituents' steps
    before = (composed / layout.PROGRESS).read_bytes()
    assert main(["run", "composition", "--profile", "smoke", "--out", str(out), "--workers", "1"]) == 0
    assert "skipped   composition seed 0" in capsys.readouterr().out
    assert (composed / layout.PROGRESS).read_bytes() == before
    paths = figure(out, out / "figures", "smoke", ("png", "pdf"))
    assert [p.name for p in paths] == ["composition_rollouts.png", "composition_rollouts.pdf"]


def test_composition_reports_missing_constituents(tmp_path):
    from experiments.tasks.composition.training import finalize

    lines = finalize(tmp_path, "smoke", [0])
    assert len(lines) == 1 and lines[0].startswith("missing   composition seed 0")
    assert not (tmp_path / layout.RUNS).exists()
