"""The fast SQL update computes exactly the paper's losses: a plain reference implementation of eqs. 10-14,
written as the equations read (networks on concatenated inputs, one sampler pass over all particles,
autograd everywhere), must give the same TD and SVGD losses and the same parameter gradients as
``SQL.td_loss`` and ``SQL.svgd_loss`` on random inputs, for both presets, both bandwidth rules and both
action boundings (the 2018 code's tanh squash, the 2017 code's clip with InputBounds).

The comparison runs in float64. The two compute the same sums in different orders (a first layer split
between state and action, the score's action gradient in closed form rather than by autograd); in float32
that alone moved a gradient entry by 1.1e-5 on one CI machine, the size of a real error. In float64 the
two agree to better than 1e-13, so the tolerance of 1e-9 can only fail on a difference in the mathematics.
"""

import math

import pytest
import torch as th
from randombox import RandomBoxEnv

import softq
from softq import SQL
from softq.kernels import MIN_BANDWIDTH
from softq.policies import INPUT_BOUNDS_SLOPE, TANH_CORRECTION_EPS

TOLERANCE = 1e-9
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not th.cuda.is_available(), reason="needs a CUDA GPU")),
]


def _mlp(net: th.nn.Sequential, features: th.Tensor, other: th.Tensor) -> th.Tensor:
    """The network on [s, x] concatenated, with s repeated for every particle."""
    features = features.expand(*other.shape[:-1], features.shape[-1])
    return net(th.cat([features, other], dim=-1))


def reference_td_loss(model: SQL, data) -> th.Tensor:
    """Eq. 11 with the soft value of eq. 10 (uniform proposal on [-1, 1]^D, alpha folded into the reward)."""
    policy = model.policy
    batch_size, n_particles, action_dim = (
        data.observations.shape[0],
        model.value_n_particles,
        policy.action_dim,
    )
    with th.no_grad():
        next_features = policy.features(data.next_observations)[:, None, :]
        uniform_actions = (2.0 * th.rand(n_particles, action_dim, device=model.device) - 1.0).expand(
            batch_size, -1, -1
        )
        next_q = _mlp(policy.qf_target.net, next_features, uniform_actions).squeeze(-1)
        next_value = th.logsumexp(next_q, dim=1) - math.log(n_particles) + action_dim * math.log(2.0)
        target = (
            model.reward_scale * data.rewards.flatten()
            + (1.0 - data.dones.flatten()) * model.gamma * next_value
        )
    q = _mlp(policy.qf.net, policy.features(data.observations), data.actions).squeeze(-1)
    return 0.5 * ((target - q) ** 2).mean()


def reference_svgd_loss(model: SQL, observations: th.Tensor) -> th.Tensor:
    """Eqs. 13-14: all particles a = f(s, xi) in one pass; the first K_fixed are detached and the score is
    taken there, the rest receive the Stein direction with the adaptive Gaussian kernel (App. D.1)."""
    policy = model.policy
    features = policy.features(observations)[:, None, :]
    n_particles, n_updated = model.kernel_n_particles, model.kernel_n_updated
    n_fixed = n_particles - n_updated
    noise = th.randn(features.shape[0], n_particles, policy.action_dim, device=model.device)
    actions = _mlp(policy.sampler.net, features, noise)
    if policy.action_bounding == "squash":
        actions = th.tanh(actions)
    fixed = actions[:, :n_fixed].detach().requires_grad_(True)
    updated = actions[:, n_fixed:]
    if policy.action_bounding == "squash":  # the 2018 code: Q plus tanh's log-Jacobian
        log_p = _mlp(policy.qf.net, features, fixed).squeeze(-1) + th.log(
            1.0 - fixed**2 + TANH_CORRECTION_EPS
        ).sum(-1)
    else:  # the 2017 code: Q at the clipped action inside the box, -10 x the violation outside (InputBounds)
        violation = (fixed.abs() - 1.0).clamp_min(0.0).sum(-1)
        q = _mlp(policy.qf.net, features, fixed.clamp(-1.0, 1.0)).squeeze(-1)
        log_p = th.where(violation > 0, -INPUT_BOUNDS_SLOPE * violation, q)
    (score,) = th.autograd.grad(log_p.sum(), fixed)
    diff = fixed.detach()[:, :, None, :] - updated.detach()[:, None, :, :]  # (B, K_fixed, K_updated, D)
    sq_distances = (diff**2).sum(-1)
    median = sq_distances.flatten(1).median(dim=1).values
    h = (
        median / math.log(n_fixed)
        if model.bandwidth_rule == "code"
        else median / (2.0 * math.log(n_fixed + 1))
    )
    h = h.clamp_min(MIN_BANDWIDTH)[:, None, None]
    kappa = th.exp(-sq_distances / h)
    grad_kappa = -2.0 * diff / h[..., None] * kappa[..., None]
    direction = (kappa[..., None] * score[:, :, None, :] + grad_kappa).mean(dim=1)
    return -(updated * direction).sum(-1).mean()


def _loss_and_gradients(loss_fn, model, argument, seed, parameters):
    for p in parameters:
        p.grad = None
    th.manual_seed(seed)
    loss = loss_fn(argument)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in parameters]


@pytest.mark.parametrize("preset", ["code", "paper"])
@pytest.mark.parametrize("bandwidth_rule", ["code", "paper"])
@pytest.mark.parametrize("action_bounding", ["squash", "clip"])
@pytest.mark.parametrize(("obs_dim", "act_dim"), [(8, 2), (29, 8)])
@pytest.mark.parametrize("device", DEVICES)
def test_fast_update_equals_reference(preset, bandwidth_rule, action_bounding, obs_dim, act_dim, device):
    env = RandomBoxEnv(obs_dim, act_dim, done_probability=0.1)
    presets = softq.sql.load_presets()
    model = SQL.from_preset(
        preset,
        "MlpPolicy",
        env,
        learning_starts=64,
        batch_size=32,
        bandwidth_rule=bandwidth_rule,
        reward_scale=3.0,
        seed=0,
        device=device,
        policy_kwargs={**presets[preset]["policy_kwargs"], "action_bounding": action_bounding},
    )
    model.learn(200)  # fills the buffer and trains, so that Q, its target and the sampler differ from init
    if action_bounding == "clip":  # push part of the sampler's output outside the box: InputBounds acts there
        with th.no_grad():
            model.policy.sampler.net[-1].weight.mul_(4.0)
            model.policy.sampler.net[-1].bias.fill_(0.8)
    policy = model.policy.double()
    # SB3's preprocessing casts observations to float32; back to float64 (exact: they are float32 values)
    extract_float32_features = policy.extract_features
    policy.extract_features = lambda obs, extractor: extract_float32_features(obs, extractor).double()
    data = model.replay_buffer.sample(32)
    data = data._replace(**{name: t.double() for name, t in data._asdict().items() if t is not None})
    q_parameters, sampler_parameters = list(policy.qf.parameters()), list(policy.sampler.parameters())
    with th.no_grad():  # a target different from Q, as between two hard copies
        for p in policy.qf_target.parameters():
            p.add_(0.1 * th.randn_like(p))
    default_dtype = th.get_default_dtype()
    th.set_default_dtype(th.float64)  # the noise both losses draw
    try:
        _compare_losses(model, data, q_parameters, sampler_parameters)
    finally:
        th.set_default_dtype(default_dtype)


def _compare_losses(model, data, q_parameters, sampler_parameters):
    for seed in range(3):
        fast = _loss_and_gradients(model.td_loss, model, data, seed, q_parameters)
        reference = _loss_and_gradients(
            lambda d: reference_td_loss(model, d), model, data, seed, q_parameters
        )
        _assert_same(fast, reference)
        fast = _loss_and_gradients(model.svgd_loss, model, data.observations, seed, sampler_parameters)
        reference = _loss_and_gradients(
            lambda obs: reference_svgd_loss(model, obs), model, data.observations, seed, sampler_parameters
        )
        _assert_same(fast, reference)


def _assert_same(fast, reference):
    (fast_loss, fast_grads), (reference_loss, reference_grads) = fast, reference
    assert th.allclose(fast_loss, reference_loss, rtol=TOLERANCE, atol=TOLERANCE), (fast_loss, reference_loss)
    for fast_grad, reference_grad in zip(fast_grads, reference_grads, strict=True):
        assert th.allclose(fast_grad, reference_grad, rtol=TOLERANCE, atol=TOLERANCE), (
            (fast_grad - reference_grad).abs().max()
        )
