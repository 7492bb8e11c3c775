"""Sampler fidelity (experiments/analysis/fidelity.py): MMD^2_u against gridded targets with known answers,
and the run-level measures the sampler claims read."""

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import fidelity, measures
from softq.policies import TANH_CORRECTION_EPS

AXIS = np.linspace(-1.0, 1.0, 31)


def _bimodal_q() -> np.ndarray:
    """Two sharp modes at (-0.6, 0) and (0.6, 0): exp(Q) is far from uniform."""
    a_x, a_y = np.meshgrid(AXIS, AXIS)
    return np.logaddexp(
        -((a_x + 0.6) ** 2 + a_y**2) / (2 * 0.15**2), -((a_x - 0.6) ** 2 + a_y**2) / (2 * 0.15**2)
    )


def test_constants_agree_with_the_policy():
    assert fidelity.TANH_CORRECTION_EPS == TANH_CORRECTION_EPS


def test_mmd_is_zero_in_expectation_for_the_same_distribution_and_positive_otherwise():
    rng = np.random.default_rng(0)
    same = [fidelity.mmd2_unbiased(rng.normal(size=(100, 2)), rng.normal(size=(300, 2))) for _ in range(50)]
    assert abs(np.mean(same)) < 0.01
    shifted = fidelity.mmd2_unbiased(rng.normal(size=(100, 2)) + 1.0, rng.normal(size=(300, 2)))
    assert shifted > 0.01  # measured 0.022; the same-distribution values have sd 0.0024


def test_grid_density_sampling_follows_the_density():
    density = np.zeros((31, 31))
    density[15, 25] = 1.0  # all mass in the cell of node (x = AXIS[25], y = 0)
    draws = fidelity.GridDensity(AXIS, density).sample(500, np.random.default_rng(0))
    half = (AXIS[1] - AXIS[0]) / 2
    assert np.all(np.abs(draws[:, 0] - AXIS[25]) <= half) and np.all(np.abs(draws[:, 1]) <= half)
    edge = np.zeros((31, 31))
    edge[0, 0] = 1.0  # the corner cell is cut at the box's edge
    corner = fidelity.GridDensity(AXIS, edge).sample(200, np.random.default_rng(1))
    assert corner.min() >= -1.0 and corner.max() <= -1.0 + half


@pytest.mark.parametrize("scheme", ["squash", "clip"])
def test_exact_sampler_sits_at_the_floor_and_uniform_does_not(scheme):
    q = _bimodal_q()
    exact = fidelity.target_densities(AXIS, q)["exp_q"].sample(100, np.random.default_rng(7))
    score = fidelity.sampler_fidelity(AXIS, q, exact, scheme, state_index=0)
    assert score.sampler <= score.floor and score.sampler < score.uniform
    uniform = np.random.default_rng(8).uniform(-1, 1, size=(100, 2))
    bad = fidelity.sampler_fidelity(AXIS, q, uniform, scheme, state_index=0)
    assert bad.sampler > bad.floor and bad.uniform > bad.floor


def test_squash_scheme_target_carries_tanhs_jacobian():
    """A sampler drawn from exp(Q) prod (1 - a^2) is at its scheme's target but away from exp(Q) when Q's
    modes sit at the box's edges."""
    a_x, a_y = np.meshgrid(AXIS, AXIS)
    q = 8.0 * np.abs(a_x)  # best at the left and right edges
    squashed = fidelity.target_densities(AXIS, q)["squash"].sample(100, np.random.default_rng(3))
    score = fidelity.sampler_fidelity(AXIS, q, squashed, "squash", state_index=1)
    assert score.sampler_scheme <= score.floor < score.sampler
    with pytest.raises(ValueError, match="scheme"):
        fidelity.sampler_fidelity(AXIS, q, squashed, "tanh", state_index=1)


def test_fidelity_measures_from_run_tables():
    q = _bimodal_q()
    grid = [(s, x, y, q[i, j]) for s in range(3) for i, y in enumerate(AXIS) for j, x in enumerate(AXIS)]
    q_values = pd.DataFrame(grid, columns=["state", "action_x", "action_y", "q"])
    rng = np.random.default_rng(11)
    exact = fidelity.target_densities(AXIS, q)["exp_q"]
    samples = pd.DataFrame(
        [(s, *a) for s in range(3) for a in exact.sample(100, rng)], columns=["state", "action_x", "action_y"]
    )
    good = measures.fidelity_measures(measures.fidelity_scores(q_values, samples, "clip"))
    assert good["sampler_at_floor"] == 1.0 and good["sampler_beats_uniform"] == 1.0
    assert good["sampler_mmd"] < good["sampler_mmd_floor"] < good["uniform_mmd"]
    samples[["action_x", "action_y"]] = rng.uniform(-1, 1, size=(300, 2))
    bad = measures.fidelity_measures(measures.fidelity_scores(q_values, samples, "clip"))
    assert bad["sampler_at_floor"] == 0.0 and bad["sampler_beats_uniform"] == 0.0
    assert measures.fidelity_scores(q_values[q_values["state"] != 2], samples, "clip") is None
    assert all(np.isnan(v) for v in measures.fidelity_measures(None).values())
    assert (
        measures.action_bounding({"hyperparameters": {"policy_kwargs": {"action_bounding": "clip"}}})
        == "clip"
    )
    assert measures.action_bounding({}) == "squash"
