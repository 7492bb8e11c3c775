"""The pieces of soft Q-learning that are pure math, with no networks: the soft value estimator
(eq. 10), the adaptive isotropic Gaussian kernel and the SVGD direction (eq. 13).

Shapes: a leading batch of states ``B``, then particles, then the action dimension ``D``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch as th

BandwidthRule = Literal["code", "paper"]
BANDWIDTH_RULES: tuple[str, ...] = ("code", "paper")
MIN_BANDWIDTH = 1e-3  # h_min of the public code's kernel; keeps the kernel finite when particles collapse


def soft_value(
    q_function: Callable[[th.Tensor, th.Tensor], th.Tensor],
    features: th.Tensor,
    action_dim: int,
    n_particles: int,
    alpha: float = 1.0,
) -> th.Tensor:
    """Importance-sampled soft value, eq. 10, with the uniform proposal on [-1, 1]^D.

    V(s) = alpha log E_{a ~ U}[exp(Q(s, a) / alpha) / q(a)] with q(a) = 2^-D, estimated with
    ``n_particles`` actions drawn once and shared by every state (as the public code does):

        V(s) ~= alpha * (logsumexp_j Q(s, a_j) / alpha - log K + D log 2)

    :param q_function: maps features of shape (B, 1, F) and actions (K, D), broadcast, to Q values (B, K).
    :param features: state features, shape (B, F).
    :return: soft values, shape (B,).
    """
    actions = 2.0 * th.rand(n_particles, action_dim, device=features.device) - 1.0
    q_values = q_function(features[:, None, :], actions)  # (B, 1, F) against (K, D): broadcast to (B, K)
    log_mean_exp = th.logsumexp(q_values / alpha, dim=1) - math.log(n_particles)
    return alpha * (log_mean_exp + action_dim * math.log(2.0))


def kernel_bandwidth(sq_distances: th.Tensor, n_fixed: int, rule: BandwidthRule = "code") -> th.Tensor:
    """Bandwidth h of the kernel exp(-||x - y||^2 / h), one per state, without gradient.

    - ``"code"`` (public code, both versions): h = median of squared pairwise distances / log(K_fixed).
    - ``"paper"`` (App. D.1): h = d / (2 log(M + 1)) with M = K_fixed; we read d as the median squared
      distance so that h has the units of ||x - y||^2 (the paper does not say; deviation ``bandwidth-d``).

    The median is the lower median of the K_fixed * K_updated distances, as the code's top-k.
    """
    median = sq_distances.flatten(start_dim=-2).median(dim=-1).values
    if rule == "code":
        h = median / math.log(n_fixed)
    elif rule == "paper":
        h = median / (2.0 * math.log(n_fixed + 1))
    else:
        raise ValueError(f"unknown bandwidth rule {rule!r}; valid: {BANDWIDTH_RULES}")
    return h.clamp_min(MIN_BANDWIDTH).detach()


def adaptive_isotropic_gaussian_kernel(
    xs: th.Tensor, ys: th.Tensor, rule: BandwidthRule = "code"
) -> tuple[th.Tensor, th.Tensor]:
    """Gaussian kernel kappa(x, y) = exp(-||x - y||^2 / h) with an adaptive bandwidth, and its gradient in x.

    :param xs: fixed particles, shape (B, Kx, D).
    :param ys: updated particles, shape (B, Ky, D).
    :return: ``kappa`` of shape (B, Kx, Ky) and ``grad_x kappa`` of shape (B, Kx, Ky, D), with
        grad_x kappa = -2 (x - y) / h * kappa (h treated as a constant).
    """
    diff = xs[..., :, None, :] - ys[..., None, :, :]
    sq_distances = (diff**2).sum(-1)
    h = kernel_bandwidth(sq_distances, n_fixed=xs.shape[-2], rule=rule)[..., None, None]
    kappa = th.exp(-sq_distances / h)
    grad_x_kappa = -2.0 * diff / h[..., None] * kappa[..., None]
    return kappa, grad_x_kappa


def svgd_direction(
    fixed_actions: th.Tensor,
    grad_log_density: th.Tensor,
    updated_actions: th.Tensor,
    rule: BandwidthRule = "code",
) -> th.Tensor:
    """Stein variational direction, eq. 13, with the temperature folded into the density (alpha = 1).

    Delta f(a_j) = mean_i [ kappa(a_i, a_j) grad_{a_i} log p(a_i) + grad_{a_i} kappa(a_i, a_j) ]

    The first term pulls particles toward high soft Q; the second repels them from each other, which
    is what keeps the sampler from collapsing onto one mode (without it, the update is DDPG-like).

    :param fixed_actions: particles a_i at which the score is taken, shape (B, Kf, D).
    :param grad_log_density: grad_a log p at the fixed particles, shape (B, Kf, D).
    :param updated_actions: particles a_j that receive the direction, shape (B, Ku, D).
    :return: the direction for each updated particle, shape (B, Ku, D).
    """
    kappa, grad_kappa = adaptive_isotropic_gaussian_kernel(fixed_actions, updated_actions, rule)
    return (kappa[..., None] * grad_log_density[..., :, None, :] + grad_kappa).mean(dim=-3)


def autograd_score(
    log_density: Callable[[th.Tensor, th.Tensor], th.Tensor],
) -> Callable[[th.Tensor, th.Tensor], th.Tensor]:
    """The score grad_a log p(a | s) of any differentiable log density, by autograd, for
    :func:`amortized_svgd_loss`."""

    def score(features: th.Tensor, actions: th.Tensor) -> th.Tensor:
        with th.enable_grad():
            actions = actions.detach().requires_grad_(True)
            (gradient,) = th.autograd.grad(log_density(features, actions).sum(), actions)
        return gradient

    return score


def amortized_svgd_loss(
    sampler: Callable[[th.Tensor, th.Tensor], th.Tensor],
    score: Callable[[th.Tensor, th.Tensor], th.Tensor],
    features: th.Tensor,
    action_dim: int,
    n_particles: int,
    n_updated: int,
    rule: BandwidthRule = "code",
    noise: th.Tensor | None = None,
    score_features: th.Tensor | None = None,
) -> th.Tensor:
    """Surrogate loss whose gradient is the amortized SVGD update of eq. 14 (estimator of App. C.1).

    For each state, ``n_particles`` actions a = f(s, xi), xi ~ N(0, I), are drawn in one batch and
    split as the public code does: the first ``n_particles - n_updated`` are *fixed* (no gradient;
    the score and kernel are taken at them), the rest are *updated* (gradients flow through them
    into the sampler). With ``n_updated == n_particles`` every particle is both, as in eq. 13 as written
    (no split); with one such particle kappa = 1 and grad kappa = 0, so the update is the deterministic
    policy gradient through the noise input (Sec. 4). The loss -mean(<f(xi_j; s), stop_grad(Delta f_j)>)
    has gradient -E[Delta f . df/dphi], i.e. gradient descent on it moves the sampler along Delta f.

    :param sampler: maps features (B, 1, F) and noise (B, K, D) to actions (B, K, D).
    :param score: maps features (B, 1, F) and actions (B, K, D) to grad_a log p(a | s), shape (B, K, D);
        for SQL, :meth:`~softq.policies.SQLPolicy.svgd_score` (grad of Q_soft, alpha = 1, plus the tanh
        correction); :func:`autograd_score` makes one from any log density.
    :param features: the sampler's state features, shape (B, F).
    :param score_features: the features the score reads, shape (B, F'), when they differ from ``features``
        (a sampler with its own features extractor); default ``features``.
    :param noise: the particles' noise xi, shape (B, K, D), drawn by the caller (SQL draws it from its
        policy, :meth:`~softq.policies.SQLPolicy.sample_noise`); None draws xi ~ N(0, I) here.
    """
    batch_size = features.shape[0]
    if noise is None:
        noise = th.randn(batch_size, n_particles, action_dim, device=features.device)
    else:
        if noise.shape != (batch_size, n_particles, action_dim):
            raise ValueError(
                f"noise has shape {tuple(noise.shape)}, expected {(batch_size, n_particles, action_dim)}"
            )
        noise = noise.to(features.device)
    n_fixed = n_particles - n_updated
    state_features = features[:, None, :]
    score_state = state_features if score_features is None else score_features[:, None, :]
    if n_fixed == 0:
        # Shared particles: the kernel and the score are taken at the updated particles themselves.
        updated_actions = sampler(state_features, noise)
        fixed_actions = updated_actions.detach()
        with th.no_grad():
            grad_log_p = score(score_state, fixed_actions)
    else:
        # The fixed particles need only a forward pass (no gradient reaches the sampler through them) and
        # the score at them; only the updated particles are back-propagated into the sampler.
        with th.no_grad():
            fixed_actions = sampler(state_features, noise[:, :n_fixed])
            grad_log_p = score(score_state, fixed_actions)
        updated_actions = sampler(state_features, noise[:, n_fixed:])
    direction = svgd_direction(fixed_actions, grad_log_p, updated_actions.detach(), rule)
    return -(updated_actions * direction).sum(-1).mean()
