"""Networks of soft Q-learning and the SB3 policy that holds them.

- :class:`QNetwork`: Q_soft(s, a), an MLP on [s, a] with a scalar linear output.
- :class:`SamplingNetwork`: the amortized sampler a = f(s, xi), xi ~ N(0, I) of action dimension,
  injected at the first layer (an MLP on [s, xi]); tanh-squashed into [-1, 1]^D as the 2018 code, or
  unsquashed as the 2017 code (``action_bounding``, below).
- :class:`SQLPolicy`: Q, its target copy and the sampler; acting deterministically means the sampler
  at zero noise, acting stochastically means a fresh noise draw xi ~ N(0, I). The SVGD step draws its
  particles' noise from the policy too (:meth:`SQLPolicy.sample_noise`), so a subclass that changes the
  noise distribution (fine-tuning's fixed noise set, ``experiments/tasks/finetune/``) changes both.

Both networks broadcast over leading dimensions, so a batch of states times particles is one call.

How actions are kept in the box [-1, 1]^D (``SQLPolicy(action_bounding=...)``; the paper is silent):

- ``"squash"`` (default; the 2018 code, which the committed runs used): the sampler's output is tanh'd, and
  the SVGD target log-density is Q(s, a) + sum_d log(1 - a_d^2 + 1e-6) at the squashed action, so SVGD
  draws from exp(Q) prod_d (1 - a_d^2): tanh's Jacobian factor, which vanishes at the box's edges.
- ``"clip"`` (the 2017 code, contemporary with the paper's runs): the sampler's output is not squashed;
  the env and Q see it clipped into the box; for SVGD, a particle outside the box gets the score of
  log p = -10 * (its total violation of the box) instead of Q's (``InputBounds`` in the 2017 code's
  ``core/nn.py``), which points back into the box. SVGD's target is then exp(Q) on the box, the paper's
  policy (eq. 6), with a thin tail outside it that clipping maps onto the edges.
"""

from __future__ import annotations

import copy
from itertools import islice
from typing import Any, Literal, cast

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    create_mlp,
    get_actor_critic_arch,
)
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.common.utils import get_parameters_by_name
from torch import nn
from torch.nn import functional as F

from softq.kernels import autograd_score

TANH_CORRECTION_EPS = 1e-6  # as the 2018 code: log(1 - a^2 + 1e-6)
ActionBounding = Literal["squash", "clip"]
ACTION_BOUNDINGS: tuple[ActionBounding, ...] = ("squash", "clip")
INPUT_BOUNDS_SLOPE = 10.0  # the 2017 code's InputBounds.SLOPE: log p outside the box = -10 x violation
# Adam arguments that choose its implementation: where the user sets one, fused Adam is not imposed.
ADAM_IMPLEMENTATION_KWARGS = frozenset({"fused", "foreach", "differentiable"})


def _init_xavier(module: nn.Module) -> None:
    """Xavier weights and zero biases, as the public code's layers."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def first_layer_on_pair(first: nn.Linear, features: th.Tensor, other: th.Tensor) -> th.Tensor:
    """W [s, x] + b computed as (W_s s + b) + W_x x, features broadcast against ``other``."""
    n_features = features.shape[-1]
    return F.linear(features, first.weight[:, :n_features], first.bias) + F.linear(
        other, first.weight[:, n_features:]
    )


def mlp_on_pair(net: nn.Sequential, features: th.Tensor, other: th.Tensor) -> th.Tensor:
    """``net`` applied to the concatenation [features, other], with features broadcast against ``other``.

    The first layer is split, W [s, x] + b = (W_s s + b) + W_x x, so that its state part is computed once
    per state and broadcast over the particles (K value actions, K SVGD noise draws) instead of once per
    (state, particle) pair: the same function as ``net(cat([features, other]))``, with fewer FLOPs.
    """
    hidden = first_layer_on_pair(cast(nn.Linear, net[0]), features, other)
    for layer in islice(net, 1, None):  # not net[1:], which builds a new Sequential on every call
        hidden = layer(hidden)
    return hidden


class QNetwork(nn.Module):
    """Q_soft(s, a): MLP on the concatenated features and action, scalar output."""

    def __init__(
        self, features_dim: int, action_dim: int, net_arch: list[int], activation_fn: type[nn.Module]
    ):
        super().__init__()
        self.net = nn.Sequential(*create_mlp(features_dim + action_dim, 1, net_arch, activation_fn))
        _init_xavier(self.net)

    def forward(self, features: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """Features (..., F) broadcast against actions (..., D); returns Q of the broadcast leading shape."""
        return mlp_on_pair(self.net, features, actions).squeeze(-1)

    @property
    def closed_form_action_gradient(self) -> bool:
        """Whether :meth:`action_gradient` may write dQ/da out by hand: Q is this class's ``forward`` on an
        MLP of Linear and ReLU layers with at least one hidden layer. False for other activations and for
        a subclass that overrides ``forward``, whose score then comes from autograd
        (:meth:`SQLPolicy.svgd_score`); another Q network may define it to opt in."""
        return (
            type(self).forward is QNetwork.forward
            and sum(isinstance(layer, nn.Linear) for layer in self.net) >= 2
            and all(isinstance(layer, nn.Linear | nn.ReLU) for layer in self.net)
        )

    def action_gradient(self, features: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """dQ(s, a)/da, shape of ``actions`` broadcast: the score of the SVGD target (eq. 13), for a network
        with :attr:`closed_form_action_gradient`.

        It is computed by hand in one forward and one backward sweep, without an autograd graph and without
        the weight gradients autograd would also form:
        dQ/da = W_a^T (m_1 * W_2^T (m_2 * ... w_L)), with m_i the ReLU masks of the forward pass.
        """
        if not self.closed_form_action_gradient:
            raise ValueError(f"{type(self).__name__} has no closed-form action gradient; use autograd_score")
        linears = [layer for layer in self.net if isinstance(layer, nn.Linear)]
        with th.no_grad():
            hidden = first_layer_on_pair(linears[0], features, actions)
            masks = [hidden > 0]
            for layer in linears[1:-1]:
                hidden = F.linear(hidden * masks[-1], layer.weight, layer.bias)
                masks.append(hidden > 0)
            gradient = linears[-1].weight.squeeze(0) * masks[-1]
            for layer, mask in zip(reversed(linears[1:-1]), reversed(masks[:-1]), strict=True):
                gradient = (gradient @ layer.weight) * mask
            return gradient @ linears[0].weight[:, features.shape[-1] :]


class SamplingNetwork(nn.Module):
    """The sampler f(s, xi) of Sec. 3.2: noise enters with the state at the first layer; a tanh output
    (``squash``, the 2018 code) or a linear one (the 2017 code)."""

    def __init__(
        self,
        features_dim: int,
        action_dim: int,
        net_arch: list[int],
        activation_fn: type[nn.Module],
        squash: bool = True,
    ):
        super().__init__()
        self.action_dim = action_dim
        self.squash = squash
        self.net = nn.Sequential(*create_mlp(features_dim + action_dim, action_dim, net_arch, activation_fn))
        _init_xavier(self.net)

    def forward(self, features: th.Tensor, noise: th.Tensor) -> th.Tensor:
        """Features (..., F) broadcast against noise (..., D); returns actions, in (-1, 1)^D if squashed."""
        actions = mlp_on_pair(self.net, features, noise)
        return th.tanh(actions) if self.squash else actions


def tanh_log_density_correction(actions: th.Tensor) -> th.Tensor:
    """sum_d log(1 - a_d^2 + eps): the log-derivative of tanh that the 2018 code adds to the SVGD target.

    It is a barrier that keeps SVGD particles off the box edges, where tanh saturates.
    """
    return th.log(1.0 - actions**2 + TANH_CORRECTION_EPS).sum(-1)


def tanh_log_density_correction_gradient(actions: th.Tensor) -> th.Tensor:
    """d/da of :func:`tanh_log_density_correction`: -2 a / (1 - a^2 + eps), per dimension."""
    return -2.0 * actions / (1.0 - actions**2 + TANH_CORRECTION_EPS)


def input_bounds_score(actions: th.Tensor, q_gradient: th.Tensor) -> th.Tensor:
    """The 2017 code's bounded SVGD score: ``q_gradient`` (grad_a Q) inside the box [-1, 1]^D; outside it
    the gradient of -INPUT_BOUNDS_SLOPE * sum_d max(|a_d| - 1, 0), i.e. -10 sign(a_d) on each dimension
    beyond the box and 0 on the others, which moves the particle back in."""
    violation = (actions.abs() - 1.0).clamp_min(0.0)
    outside = (violation > 0).any(dim=-1, keepdim=True)
    return th.where(outside, -INPUT_BOUNDS_SLOPE * th.sign(actions) * (violation > 0), q_gradient)


class SQLPolicy(BasePolicy):
    """Policy for :class:`softq.SQL`: Q network, target Q network and sampling network.

    :param observation_space: observation space.
    :param action_space: action space (a Box; the policy's actions are in [-1, 1]^D, see
        ``action_bounding``, which SB3 rescales to the space's bounds).
    :param lr_schedule: learning rate schedule the optimizers are built with (SQL then sets the Q
        network's and the sampler's from their own schedules).
    :param net_arch: hidden layer sizes of Q and the sampler (paper App. D.1: [200, 200]), or, as SB3's
        SAC, ``dict(pi=[...], qf=[...])`` for the sampler's and Q's apart. Default [128, 128] (2018 code).
    :param activation_fn: activation function of the hidden layers (App. D.1: ReLU). With ReLU the SVGD
        score dQ/da is computed in closed form (:attr:`QNetwork.closed_form_action_gradient`), with others
        by autograd.
    :param features_extractor_class: flatten/concatenate observations (default), or one with parameters
        such as NatureCNN (``"CnnPolicy"``): then Q and the sampler each have their own copy, trained by
        their own loss, and the target Q has a copy of Q's, updated with it.
    :param features_extractor_kwargs: keyword arguments to pass to the features extractor.
    :param normalize_images: whether to normalize images or not, dividing by 255.0 (True by default).
    :param optimizer_class: the optimizer to use for Q and the sampler, one each (``th.optim.Adam`` by
        default, as both public code versions and App. D.1).
    :param optimizer_kwargs: additional keyword arguments, excluding the learning rate, to pass to the
        optimizers. Adam is fused (one kernel per step; the same update) unless these choose its
        implementation (``fused``, ``foreach`` or ``differentiable``).
    :param share_features_extractor: one extractor for Q and the sampler, trained by the TD loss only.
    :param action_bounding: how actions stay in the box, ``"squash"`` (the 2018 code: tanh output and its
        Jacobian in the SVGD target) or ``"clip"`` (the 2017 code: unsquashed output, clipped for the env and
        Q, SVGD's score redirected into the box outside it); see the module docstring.
    """

    qf: QNetwork
    qf_target: QNetwork
    sampler: SamplingNetwork

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        share_features_extractor: bool = False,
        action_bounding: ActionBounding = "squash",
    ):
        if action_bounding not in ACTION_BOUNDINGS:
            raise ValueError(f"unknown action_bounding {action_bounding!r}; valid: {ACTION_BOUNDINGS}")
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class,
            features_extractor_kwargs,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            squash_output=True,
            normalize_images=normalize_images,
        )
        if net_arch is None:
            net_arch = [128, 128]
        self.net_arch = dict(net_arch) if isinstance(net_arch, dict) else list(net_arch)
        self.activation_fn = activation_fn
        self.share_features_extractor = share_features_extractor
        self.action_bounding = action_bounding
        self._build(lr_schedule)

    def _build(self, lr_schedule: Schedule) -> None:
        # Features extractors, as SAC's: the Q network's is trained by the TD loss and has a target copy;
        # the sampler has its own, trained by the SVGD loss, unless share_features_extractor, in which case
        # it reads the Q network's features without training them. Parameter-free extractors (flatten,
        # concatenate) are one object for all three.
        self.features_extractor = self.make_features_extractor()
        trainable = any(True for _ in self.features_extractor.parameters())
        self.target_features_extractor = (
            copy.deepcopy(self.features_extractor) if trainable else self.features_extractor
        )
        self.target_features_extractor.requires_grad_(False)
        own_sampler_extractor = trainable and not self.share_features_extractor
        self.sampler_features_extractor = (
            self.make_features_extractor() if own_sampler_extractor else self.features_extractor
        )
        features_dim = self.features_extractor.features_dim
        action_dim = get_action_dim(self.action_space)
        sampler_arch, q_arch = get_actor_critic_arch(self.net_arch)
        self.qf = QNetwork(features_dim, action_dim, q_arch, self.activation_fn)
        self.qf_target = QNetwork(features_dim, action_dim, q_arch, self.activation_fn)
        self.qf_target.load_state_dict(self.qf.state_dict())
        # The target only evaluates the soft value: never trained, and in eval mode (batch norm, dropout)
        # as SB3's critic_target; set_training_mode leaves it there.
        self.qf_target.requires_grad_(False).train(False)
        if trainable:
            self.target_features_extractor.train(False)
        squash = self.action_bounding == "squash"
        self.sampler = SamplingNetwork(features_dim, action_dim, sampler_arch, self.activation_fn, squash)
        # SQL gives the sampler's optimizer its own rate once built, and sets both rates from their
        # schedules before every update.
        optimizer_kwargs = dict(self.optimizer_kwargs)
        if self.optimizer_class is th.optim.Adam and not ADAM_IMPLEMENTATION_KWARGS & optimizer_kwargs.keys():
            optimizer_kwargs["fused"] = True  # one kernel per step, not ~10 per parameter; the same update
        self.qf_optimizer = self.optimizer_class(
            self.q_parameters()[0], lr=lr_schedule(1), **optimizer_kwargs
        )  # type: ignore[call-arg]  # SB3 types it as the base Optimizer
        sampler_parameters = [*self.sampler.parameters()]
        if own_sampler_extractor:
            sampler_parameters += self.sampler_features_extractor.parameters()
        self.sampler_optimizer = self.optimizer_class(
            sampler_parameters, lr=lr_schedule(1), **optimizer_kwargs
        )  # type: ignore[call-arg]  # SB3 types it as the base Optimizer

    def q_parameters(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """(online, target) parameters of Q and its features extractor, in matching order (target updates)."""
        online = [*self.qf.parameters(), *self.features_extractor.parameters()]
        target = [*self.qf_target.parameters(), *self.target_features_extractor.parameters()]
        return online, target

    def q_running_stats(self) -> tuple[list[th.Tensor], list[th.Tensor]]:
        """(online, target) running statistics (batch norm) of Q and its features extractor: buffers, not
        parameters, so the target update copies them separately, as SB3's SAC and DQN (SB3 issue #996)."""

        def running_stats(*modules: nn.Module) -> list[th.Tensor]:
            return [stat for module in modules for stat in get_parameters_by_name(module, ["running_"])]

        return (
            running_stats(self.qf, self.features_extractor),
            running_stats(self.qf_target, self.target_features_extractor),
        )

    @property
    def action_dim(self) -> int:
        return self.sampler.action_dim

    @property
    def actor(self) -> SamplingNetwork:
        """The sampler, under the name SB3's recipes (ONNX export, inspection) use for an actor."""
        return self.sampler

    @property
    def critic(self) -> QNetwork:
        """The soft Q network, under the name SB3's recipes use for a critic."""
        return self.qf

    @property
    def critic_target(self) -> QNetwork:
        """The target soft Q network, under SB3's name."""
        return self.qf_target

    def features(self, obs: PyTorchObs) -> th.Tensor:
        """The Q network's features of ``obs``."""
        return self.extract_features(obs, self.features_extractor)

    def target_features(self, obs: PyTorchObs) -> th.Tensor:
        """The target Q network's features of ``obs`` (the soft value of eq. 10)."""
        return self.extract_features(obs, self.target_features_extractor)

    def sampler_features(self, obs: PyTorchObs) -> th.Tensor:
        """The sampler's features of ``obs``; with a shared trainable extractor they carry no gradient."""
        with th.set_grad_enabled(th.is_grad_enabled() and not self.share_features_extractor):
            return self.extract_features(obs, self.sampler_features_extractor)

    def svgd_score(self, features: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """The score SVGD takes at its fixed particles (eq. 13): grad_a of log p(a | s), the SVGD target of
        eq. 12 with alpha folded into Q: Q_soft(s, a) plus the tanh correction of the 2018 code
        (``"squash"``), or Q_soft at the clipped action inside the box and the 2017 code's bound outside it
        (``"clip"``, :func:`input_bounds_score`)."""
        # The network says whether its closed form applies (QNetwork.closed_form_action_gradient).
        fast = getattr(self.qf, "closed_form_action_gradient", False)
        q_gradient = self.qf.action_gradient if fast else autograd_score(self.qf)
        if self.action_bounding == "squash":
            return q_gradient(features, actions) + tanh_log_density_correction_gradient(actions)
        return input_bounds_score(actions, q_gradient(features, actions.clamp(-1.0, 1.0)))

    def sample_noise(self, *shape: int, device: th.device | str | None = None) -> th.Tensor:
        """The sampler's noise, shape (*shape, action_dim): xi ~ N(0, I). Acting and the SVGD step both
        draw here, so that SVGD's particles come from the distribution the policy acts with."""
        return th.randn(*shape, self.action_dim, device=device)

    def deterministic_noise(self, n: int, device: th.device | str | None = None) -> th.Tensor:
        """The noise of the deterministic policy, shape (n, action_dim): zero, the mode of N(0, I)."""
        return th.zeros(n, self.action_dim, device=device)

    def sample_actions(self, obs: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        features = self.sampler_features(obs)
        n = features.shape[0]
        noise = (
            self.deterministic_noise(n, features.device)
            if deterministic
            else self.sample_noise(n, device=features.device)
        )
        return self.bounded(self.sampler(features, noise))

    def bounded(self, sampler_actions: th.Tensor) -> th.Tensor:
        """The actions the env and Q receive from the sampler's output: as they are when squashed, clipped
        into [-1, 1]^D with ``action_bounding="clip"``."""
        return sampler_actions if self.action_bounding == "squash" else sampler_actions.clamp(-1.0, 1.0)

    def forward(self, obs: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self._predict(obs, deterministic=deterministic)

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self.sample_actions(observation, deterministic)

    def set_training_mode(self, mode: bool) -> None:
        for module in (self.qf, self.sampler, self.features_extractor, self.sampler_features_extractor):
            module.train(mode)
        self.training = mode

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch,
            activation_fn=self.activation_fn,
            lr_schedule=self._dummy_schedule,
            optimizer_class=self.optimizer_class,
            optimizer_kwargs=self.optimizer_kwargs,
            features_extractor_class=self.features_extractor_class,
            features_extractor_kwargs=self.features_extractor_kwargs,
            share_features_extractor=self.share_features_extractor,
            action_bounding=self.action_bounding,
        )
        return data


class CnnSQLPolicy(SQLPolicy):
    """:class:`SQLPolicy` for image observations: SB3's NatureCNN features extractor (one for Q, trained by
    the TD loss, with a target copy; one for the sampler, trained by the SVGD loss, unless shared)."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        share_features_extractor: bool = False,
        action_bounding: ActionBounding = "squash",
    ):
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
            share_features_extractor,
            action_bounding,
        )


class MultiInputSQLPolicy(SQLPolicy):
    """:class:`SQLPolicy` for Dict observations (concatenated by CombinedExtractor)."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        share_features_extractor: bool = False,
        action_bounding: ActionBounding = "squash",
    ):
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
            share_features_extractor,
            action_bounding,
        )
