"""The math of SQL against known answers: kernel gradient vs autograd, soft value vs an exact
log-partition, SVGD covering both modes of a known two-mode target."""

import math

import pytest
import torch as th

from softq.kernels import (
    adaptive_isotropic_gaussian_kernel,
    amortized_svgd_loss,
    autograd_score,
    kernel_bandwidth,
    soft_value,
)
from softq.policies import SamplingNetwork


@pytest.mark.parametrize("rule", ["code", "paper"])
def test_kernel_gradient_matches_autograd(rule):
    th.manual_seed(0)
    xs = th.randn(3, 5, 4, dtype=th.float64, requires_grad=True)
    ys = th.randn(3, 7, 4, dtype=th.float64)
    kappa, grad_kappa = adaptive_isotropic_gaussian_kernel(xs, ys, rule)
    assert kappa.shape == (3, 5, 7) and grad_kappa.shape == (3, 5, 7, 4)
    # d kappa[b, i, j] / d x[b, i] for every j, via a weighted sum with random weights.
    weights = th.randn(3, 5, 7, dtype=th.float64)
    (autograd,) = th.autograd.grad((kappa * weights).sum(), xs)
    analytic = (grad_kappa * weights[..., None]).sum(dim=2)
    assert th.allclose(autograd, analytic, atol=1e-10)


def test_kernel_values_and_bandwidth_by_hand():
    xs = th.tensor([[[0.0], [1.0]]])
    ys = th.tensor([[[0.0], [3.0]]])
    # squared distances: [[0, 9], [1, 4]] -> lower median 1; code rule h = 1 / log 2
    kappa, _ = adaptive_isotropic_gaussian_kernel(xs, ys, "code")
    h = 1.0 / math.log(2.0)
    expected = th.exp(-th.tensor([[0.0, 9.0], [1.0, 4.0]]) / h)
    assert th.allclose(kappa[0], expected)
    assert math.isclose(
        kernel_bandwidth(th.tensor([[0.0, 9.0], [1.0, 4.0]]), 2, "paper").item(),
        1 / (2 * math.log(3)),
        rel_tol=1e-6,
    )


def test_kernel_bandwidth_has_floor_when_particles_collapse():
    xs = th.zeros(1, 4, 2)
    kappa, grad = adaptive_isotropic_gaussian_kernel(xs, xs.clone())
    assert th.isfinite(kappa).all() and th.isfinite(grad).all()
    assert th.allclose(kappa, th.ones_like(kappa))


def _linear_q(weights):
    return lambda features, actions: (actions * weights).sum(-1) + 0.0 * features.sum(-1)


def _exact_log_partition(weights):
    """log of the integral over [-1, 1]^D of exp(w . a) = sum_d log(2 sinh(w_d) / w_d)."""
    return sum(math.log(2 * math.sinh(w) / w) for w in weights.tolist())


def test_soft_value_matches_exact_log_partition_and_converges():
    weights = th.tensor([1.5, -0.7, 2.0], dtype=th.float64)
    exact = _exact_log_partition(weights)
    q_function = _linear_q(weights.float())

    def mean_abs_error(n_particles):
        # One call per estimate: within a call the particles are shared by every state (as in the code).
        th.manual_seed(1)
        estimates = th.cat([soft_value(q_function, th.zeros(1, 1), 3, n_particles) for _ in range(200)])
        return (estimates.double() - exact).abs().mean().item()

    # Delta method: the log of a mean of K weights exp(w.a) errs by about relstd / sqrt(K), with
    # relstd^2 = E[exp(2 w.a)] / E[exp(w.a)]^2 - 1 known exactly for uniform a;
    # mean |N(0, s^2)| = s sqrt(2/pi).
    rel_var = (
        math.exp(_exact_log_partition(2 * weights) - 2 * _exact_log_partition(weights) + 3 * math.log(2)) - 1
    )
    for n_particles in (256, 4096):
        predicted = math.sqrt(2 / math.pi) * math.sqrt(rel_var / n_particles)
        assert 0.7 * predicted < mean_abs_error(n_particles) < 1.3 * predicted
    assert mean_abs_error(4) > mean_abs_error(64) > mean_abs_error(4096)


def test_soft_value_temperature():
    """With alpha, V = alpha log int exp(Q / alpha): for Q = alpha * w . a it is alpha times the
    alpha=1 value."""
    weights = th.tensor([1.0, 0.5])
    alpha = 10.0
    th.manual_seed(0)
    value = soft_value(_linear_q(alpha * weights), th.zeros(1, 1), 2, 200_000, alpha=alpha)
    assert math.isclose(value.item(), alpha * _exact_log_partition(weights), rel_tol=5e-3)


def _two_mode_log_density(features, actions):
    """Mixture of two narrow Gaussians at (-0.5, 0) and (0.5, 0), plus nothing else (no tanh correction)."""
    centres = th.tensor([[-0.5, 0.0], [0.5, 0.0]])
    sq = ((actions[..., None, :] - centres) ** 2).sum(-1)
    return th.logsumexp(-sq / (2 * 0.1**2), dim=-1)


def test_amortized_svgd_covers_both_modes():
    """A sampler trained by amortized SVGD alone (no RL) against a fixed two-mode target in 2D puts
    clear mass on both modes; without the repulsive kernel term it would collapse to one."""
    th.manual_seed(0)
    sampler = SamplingNetwork(features_dim=1, action_dim=2, net_arch=[64, 64], activation_fn=th.nn.ReLU)
    optimizer = th.optim.Adam(sampler.parameters(), lr=3e-3)
    features = th.zeros(8, 1)
    for _ in range(600):
        loss = amortized_svgd_loss(
            sampler, autograd_score(_two_mode_log_density), features, 2, n_particles=64, n_updated=32
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with th.no_grad():
        actions = sampler(th.zeros(2000, 1), th.randn(2000, 2))
    near_left = ((actions - th.tensor([-0.5, 0.0])).norm(dim=-1) < 0.25).float().mean().item()
    near_right = ((actions - th.tensor([0.5, 0.0])).norm(dim=-1) < 0.25).float().mean().item()
    assert near_left > 0.25 and near_right > 0.25, (near_left, near_right)
    assert near_left + near_right > 0.8
