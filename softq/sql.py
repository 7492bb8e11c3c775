"""Soft Q-learning (Haarnoja, Tang, Abbeel, Levine, ICML 2017) as a stable-baselines3 algorithm.

Each environment step (Algorithm 1):

1. act with a = f(s, xi), xi ~ N(0, I) and store the transition (SB3's collection loop);
2. TD step on Q (eq. 10-11): target r / alpha + gamma V_target(s'), V from uniform importance sampling;
3. SVGD step on the sampler (eq. 13-14) toward exp(Q(s, .)) with the adaptive Gaussian kernel;
4. every ``target_update_interval`` steps, copy Q into its target (tau = 1; ``tau < 1`` averages instead).

The temperature is folded into the reward: ``reward_scale`` = 1 / alpha, and the networks see alpha = 1,
as both public code versions do.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
import yaml
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import open_path
from stable_baselines3.common.type_aliases import (
    GymEnv,
    MaybeCallback,
    PyTorchObs,
    ReplayBufferSamples,
    Schedule,
)
from stable_baselines3.common.utils import FloatSchedule, polyak_update, update_learning_rate

from softq.kernels import BANDWIDTH_RULES, BandwidthRule, amortized_svgd_loss, soft_value
from softq.policies import CnnSQLPolicy, MultiInputSQLPolicy, QNetwork, SamplingNetwork, SQLPolicy
from softq.schedules import with_learning_rates

PRESETS_FILE = Path(__file__).parent / "configs" / "presets.yaml"
ZOO_FILE = Path(__file__).parent / "configs" / "zoo.yaml"
ZOO_PREFIX = "zoo/"
_ZOO_ONLY_KEYS = ("n_timesteps", "policy")  # rl-zoo3 layout: the budget and the policy name, not arguments

SelfSQL = TypeVar("SelfSQL", bound="SQL")


def load_presets() -> dict[str, dict[str, Any]]:
    """The named hyperparameter presets, each value citing its source in its file: ``code`` and ``paper``
    (presets.yaml), and ``zoo/<env id>`` for every tuned standard task of zoo.yaml."""
    with open(PRESETS_FILE) as f:
        presets = yaml.safe_load(f)
    with open(ZOO_FILE) as f:
        zoo = yaml.safe_load(f)
    for env_id, entry in zoo.items():
        presets[ZOO_PREFIX + env_id] = {k: v for k, v in entry.items() if k not in _ZOO_ONLY_KEYS}
    return presets


class SQL(OffPolicyAlgorithm):
    """Soft Q-learning with an amortized SVGD sampler (Haarnoja et al., 2017).

    Defaults are the ``code`` preset (haarnoja/softqlearning, 2018 rewrite, ``[C18]`` in
    ``softq/configs/presets.yaml``); ``SQL.from_preset("paper", ...)`` gives the paper's App. D.1 values.

    :param policy: the policy model to use (``"MlpPolicy"``, ``"CnnPolicy"``, ``"MultiInputPolicy"`` or a
        :class:`SQLPolicy` subclass).
    :param env: the environment to learn from (if registered in Gym, can be str); its action space must be
        a Box.
    :param learning_rate: Adam learning rate of the Q network (eq. 11), or a schedule of the remaining
        progress (from 1 to 0). Code: 3e-4; paper App. D.1: 1e-3.
    :param sampler_learning_rate: Adam learning rate of the sampling network (eq. 13-14), or a schedule.
        Code: 3e-4; paper App. D.1: 1e-4.
    :param buffer_size: size of the replay buffer (App. D.1: 1e6).
    :param learning_starts: how many steps of the model to collect transitions for before learning starts;
        SB3 acts uniformly at random until then (code: 1000; App. D.1: 10,000).
    :param batch_size: minibatch size of each gradient step, shared by the TD and the SVGD step (code: 128;
        App. D.1: 64).
    :param gamma: the discount factor (0.99 in both public code versions; the paper does not say).
    :param train_freq: update the model every ``train_freq`` steps. Alternatively pass a tuple of frequency
        and unit like ``(5, "step")`` or ``(2, "episode")``. Algorithm 1: every step.
    :param gradient_steps: how many gradient steps (each one TD step on Q and one SVGD step on the sampler)
        to do after each rollout (see ``train_freq``); -1 does as many as environment steps were collected.
        Algorithm 1: 1.
    :param action_noise: the action noise type (None by default), added to the sampler's actions while
        collecting. SQL explores through its sampler; the paper lists Ornstein-Uhlenbeck noise (App. D.1),
        which neither public code version adds.
    :param replay_buffer_class: replay buffer class to use (for instance ``HerReplayBuffer``). If ``None``,
        it will be automatically selected.
    :param replay_buffer_kwargs: keyword arguments to pass to the replay buffer on creation.
    :param optimize_memory_usage: SB3's memory-efficient replay buffer (next observations not stored twice).
    :param n_steps: n-step returns from SB3's n-step replay buffer: the TD target becomes
        reward_scale * sum_i gamma^i r_i + gamma^n V_target(s_n) (1 = the paper's one-step target).
    :param reward_scale: 1 / alpha; rewards are multiplied by it in the TD target (eq. 11). There is no
        automatic temperature (the amortised sampler has no tractable density). The default 1.0 (alpha = 1)
        is the public code's, kept because no single value suits every task: the paper uses 0.1 on
        multi-goal and 10 on the swimmer and the ant, and on SB3's ``IdentityEnvBox(eps=0.5)`` (the slow
        test's settings, 5 seeds) 1.0 scores 41-80 of 100 while 3, 10 and 30 score 91-100. Choose it for
        the reward's range (README, "Choosing reward_scale") or take a tuned ``zoo/<env id>`` preset.
    :param target_update_interval: environment steps between updates of the target Q (code and App. D.1:
        1000); with several envs, counted in env.step() calls of ``n_envs`` steps each, as SB3's DQN.
    :param tau: each target update sets target <- tau * Q + (1 - tau) * target, as SB3's DQN; the default
        1.0 is the paper's hard copy (Algorithm 1).
    :param value_n_particles: K_V, uniform action samples per state for the soft value (eq. 10; code: 16,
        App. D.1: 50).
    :param kernel_n_particles: sampler actions drawn per state for SVGD, fixed plus updated (eq. 13-14;
        code: 16; App. D.1's K = M = 32 read as 64).
    :param kernel_update_ratio: fraction of those particles that are *updated* (receive gradients);
        the rest are *fixed* (the kernel and the score are evaluated at them). Code: 0.5. With 1.0 every
        particle is both (eq. 13 as written); one such particle makes the update the deterministic policy
        gradient (Sec. 4), which needs ``bandwidth_rule="paper"`` (the code's divides by log 1).
    :param bandwidth_rule: ``"code"`` or ``"paper"``, the kernel's bandwidth (App. D.1), see
        :func:`softq.kernels.kernel_bandwidth`.
    :param stats_window_size: window size for the rollout logging, specifying the number of episodes to
        average the reported success rate, mean episode length, and mean reward over.
    :param tensorboard_log: the log location for tensorboard (if None, no logging); runs are named
        ``SQL_<n>``.
    :param policy_kwargs: additional arguments to be passed to the policy on creation (see
        :class:`SQLPolicy`).
    :param verbose: verbosity level: 0 for no output, 1 for info messages (such as device or wrappers
        used), 2 for debug messages.
    :param seed: seed for the pseudo random generators.
    :param device: device (cpu, cuda, ...) on which the code should be run. Setting it to auto, the code
        will be run on the GPU if possible.
    :param _init_setup_model: whether or not to build the network at the creation of the instance
        (``load`` builds it after restoring the saved attributes).
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": SQLPolicy,
        "CnnPolicy": CnnSQLPolicy,
        "MultiInputPolicy": MultiInputSQLPolicy,
    }
    policy: SQLPolicy
    actor: SamplingNetwork
    critic: QNetwork
    critic_target: QNetwork

    def __init__(
        self,
        policy: str | type[SQLPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        sampler_learning_rate: float | Schedule = 3e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int = 1000,
        batch_size: int = 128,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        action_noise: ActionNoise | None = None,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        reward_scale: float = 1.0,
        target_update_interval: int = 1000,
        tau: float = 1.0,
        value_n_particles: int = 16,
        kernel_n_particles: int = 16,
        kernel_update_ratio: float = 0.5,
        bandwidth_rule: BandwidthRule = "code",
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        _check_action_space(env)
        self.kernel_n_updated = _check_hyperparameters(
            reward_scale=reward_scale,
            target_update_interval=target_update_interval,
            tau=tau,
            value_n_particles=value_n_particles,
            kernel_n_particles=kernel_n_particles,
            kernel_update_ratio=kernel_update_ratio,
            bandwidth_rule=bandwidth_rule,
            batch_size=batch_size,
        )
        super().__init__(
            policy,
            env,
            learning_rate,
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            tau=tau,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            action_noise=action_noise,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            support_multi_env=True,
            seed=seed,
            sde_support=False,
            supported_action_spaces=(spaces.Box,),
        )
        self.sampler_learning_rate = sampler_learning_rate
        self.reward_scale = reward_scale
        self.target_update_interval = target_update_interval
        self.value_n_particles = value_n_particles
        self.kernel_n_particles = kernel_n_particles
        self.kernel_update_ratio = kernel_update_ratio
        self.bandwidth_rule = bandwidth_rule
        self._n_calls = (
            0  # env.step() calls, for the target copy (restored by load, unlike _setup_model state)
        )
        if _init_setup_model:
            self._setup_model()

    @classmethod
    def from_preset(
        cls: type[SelfSQL], preset: str, policy: str | type[SQLPolicy], env: GymEnv | str, **overrides: Any
    ) -> SelfSQL:
        """Build SQL from a named preset (``code``, ``paper`` or ``zoo/<env id>``, see :func:`load_presets`);
        ``overrides`` win over preset values. A learning rate may be rl-zoo3's ``"lin_<initial>"``
        (:func:`softq.schedules.learning_rate`)."""
        presets = load_presets()
        if preset not in presets:
            raise ValueError(f"unknown SQL preset {preset!r}; valid presets: {sorted(presets)}")
        return cls(policy, env, **with_learning_rates({**presets[preset], **overrides}))

    def _setup_model(self) -> None:
        super()._setup_model()
        self._create_aliases()
        self.sampler_lr_schedule = FloatSchedule(self.sampler_learning_rate)
        # SB3 builds the policy with one schedule (Q's); the sampler's optimizer holds its own from here on.
        update_learning_rate(self.policy.sampler_optimizer, self.sampler_lr_schedule(1))
        if self.n_envs > self.target_update_interval:
            warnings.warn(  # as SB3's DQN
                "The number of environments used is greater than the target network update interval "
                f"({self.n_envs} > {self.target_update_interval}), therefore the target network will be "
                f"updated after each call to env.step() which corresponds to {self.n_envs} steps.",
                stacklevel=2,
            )

    def _on_step(self) -> None:
        """Target update every ``target_update_interval`` env steps: a hard copy with the default tau = 1
        (App. D.1, Alg. 1 line 5), Polyak averaging with tau < 1."""
        self._n_calls += 1
        if self._n_calls % max(self.target_update_interval // self.n_envs, 1) == 0:
            polyak_update(*self.policy.q_parameters(), self.tau)
            polyak_update(*self.policy.q_running_stats(), 1.0)  # batch-norm statistics: copied, not averaged

    def _create_aliases(self) -> None:
        """SB3's names for the networks: ``actor`` is the sampler f(s, xi) (``policy.sampler``), ``critic``
        the soft Q network (``policy.qf``), ``critic_target`` its target (``policy.qf_target``).

        Unlike SAC's, this actor is a network, not a policy: what SQL acts with is the sampler *and* the noise
        it is fed, which the policy draws (:meth:`SQLPolicy.sample_noise`; fine-tuning's policy subclass
        replaces it with a fixed noise set), *and* the policy's bounding of its output
        (:meth:`SQLPolicy.bounded`), so a stand-alone actor policy would act otherwise than the model.
        Nor does the sampler move into one: its weights would change their state-dict keys, which the
        committed weights files are keyed by. The object to ``predict`` with, ``save`` and ``load`` as SB3's
        actors is the policy (``model.policy``, :class:`SQLPolicy`).
        """
        self.actor = self.policy.actor
        self.critic = self.policy.critic
        self.critic_target = self.policy.critic_target

    def learn(
        self: SelfSQL,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "SQL",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfSQL:
        return super().learn(
            total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar
        )

    def train(self, gradient_steps: int, batch_size: int = 128) -> None:
        self.policy.set_training_mode(True)
        q_lr = self.lr_schedule(self._current_progress_remaining)
        sampler_lr = self.sampler_lr_schedule(self._current_progress_remaining)
        update_learning_rate(self.policy.qf_optimizer, q_lr)
        update_learning_rate(self.policy.sampler_optimizer, sampler_lr)

        td_losses, svgd_losses = [], []
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            td_loss = self.td_loss(data)
            self.policy.qf_optimizer.zero_grad()
            td_loss.backward()
            self.policy.qf_optimizer.step()

            svgd_loss = self.svgd_loss(data.observations)
            self.policy.sampler_optimizer.zero_grad()
            svgd_loss.backward()
            self.policy.sampler_optimizer.step()
            td_losses.append(td_loss.item())
            svgd_losses.append(svgd_loss.item())

        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/learning_rate", q_lr)
        self.logger.record("train/sampler_learning_rate", sampler_lr)
        td_loss_mean, svgd_loss_mean = float(np.mean(td_losses)), float(np.mean(svgd_losses))
        self.logger.record("train/td_loss", td_loss_mean)  # eq. 11
        self.logger.record("train/svgd_loss", svgd_loss_mean)  # eq. 13-14
        # The same under SB3's names, so that dashboards comparing SB3 algorithms find them.
        self.logger.record("train/critic_loss", td_loss_mean)
        self.logger.record("train/actor_loss", svgd_loss_mean)

    def td_loss(self, data: ReplayBufferSamples) -> th.Tensor:
        """Eq. 11: J_Q = E[1/2 (r / alpha + gamma V_target(s') - Q(s, a))^2], V from eq. 10 (uniform
        proposal)."""
        with th.no_grad():
            next_features = self.policy.target_features(data.next_observations)
            next_value = soft_value(
                self.policy.qf_target, next_features, self.policy.action_dim, self.value_n_particles
            )
            not_done = 1.0 - data.dones.flatten()
            # SB3's n-step buffer gives summed discounted rewards and gamma^n per sample; 1-step: gamma.
            discounts = self.gamma if data.discounts is None else data.discounts.flatten()
            target_q = self.reward_scale * data.rewards.flatten() + not_done * discounts * next_value
        q = self.policy.qf(self.policy.features(data.observations), data.actions)
        return 0.5 * ((target_q - q) ** 2).mean()

    def svgd_loss(self, observations: PyTorchObs) -> th.Tensor:
        """Eq. 13-14: amortized SVGD of the sampler toward exp(Q(s, .)), as a surrogate loss.

        The particles' noise comes from the policy (:meth:`SQLPolicy.sample_noise`: xi ~ N(0, I)), i.e.
        from the distribution the policy acts with, also where a policy subclass changes it."""
        with th.no_grad():
            q_features = self.policy.features(observations)
        features = self.policy.sampler_features(observations)
        return amortized_svgd_loss(
            sampler=self.policy.sampler,
            score=self.policy.svgd_score,
            features=features,
            score_features=q_features,
            action_dim=self.policy.action_dim,
            n_particles=self.kernel_n_particles,
            n_updated=self.kernel_n_updated,
            rule=self.bandwidth_rule,
            noise=self.policy.sample_noise(features.shape[0], self.kernel_n_particles),
        )

    @classmethod
    def load(
        cls: type[SelfSQL],
        path: str | Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> SelfSQL:
        """SB3's ``load``; a weights file of the experiments (``artifacts/model.zip``: a policy's weights,
        without what SB3 saves of an algorithm) is refused with a ValueError that names its loader."""
        if _is_weights_file(path):
            raise ValueError(
                f"{path} is a weights file (experiments.models.save_weights), not a saved SQL model: "
                "load its policy with experiments.models.load_policy(path)"
            )
        return super().load(path, env, device, custom_objects, print_system_info, force_reset, **kwargs)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "sampler_lr_schedule", "actor", "critic", "critic_target"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "policy.qf_optimizer", "policy.sampler_optimizer"], []


def _is_weights_file(path: str | Path | io.BufferedIOBase) -> bool:
    """Whether ``path`` is one of experiments.models.save_weights' files: it names its algorithm and has no
    ``n_envs``, which every SB3 save has. Only the small ``data`` entry is read."""
    file = open_path(path, "r", suffix="zip")
    try:
        with zipfile.ZipFile(file) as archive:  # seeks from the end: a caller's file object loads after it
            if "data" not in archive.namelist():
                return False
            data = json.loads(archive.read("data"))
    except zipfile.BadZipFile:
        return False  # SB3's load says what is wrong with it
    finally:
        if file is not path:  # opened here
            file.close()
    return "algorithm" in data and "n_envs" not in data


def _check_action_space(env: GymEnv | str) -> None:
    action_space = getattr(env, "action_space", None)  # env ids are checked by SB3 once made
    if action_space is not None and not isinstance(action_space, spaces.Box):
        raise ValueError(f"SQL needs a continuous (Box) action space, got {action_space}")


def _check_hyperparameters(
    *,
    reward_scale: float,
    target_update_interval: int,
    tau: float,
    value_n_particles: int,
    kernel_n_particles: int,
    kernel_update_ratio: float,
    bandwidth_rule: str,
    batch_size: int,
) -> int:
    """Raise ValueError naming the first invalid argument; return the number of updated SVGD particles."""
    if not reward_scale > 0:
        raise ValueError(f"reward_scale (= 1/alpha) must be > 0, got {reward_scale}")
    if int(target_update_interval) != target_update_interval or target_update_interval < 1:
        raise ValueError(f"target_update_interval must be a positive integer, got {target_update_interval}")
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"tau must be in (0, 1] (1 = hard copy), got {tau}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if value_n_particles < 2:
        raise ValueError(f"value_n_particles must be >= 2, got {value_n_particles}")
    if kernel_n_particles < 1:
        raise ValueError(f"kernel_n_particles must be >= 1, got {kernel_n_particles}")
    if bandwidth_rule not in BANDWIDTH_RULES:
        raise ValueError(f"unknown bandwidth_rule {bandwidth_rule!r}; valid: {BANDWIDTH_RULES}")
    if kernel_update_ratio == 1.0:  # every particle both fixed and updated (eq. 13 without the split)
        n_updated = n_fixed = kernel_n_particles
    else:
        n_updated = int(kernel_n_particles * kernel_update_ratio)
        n_fixed = kernel_n_particles - n_updated
        if n_updated < 1 or n_fixed < 1:
            raise ValueError(
                f"kernel_update_ratio={kernel_update_ratio} splits {kernel_n_particles} particles into "
                f"{n_fixed} fixed and {n_updated} updated; both must be >= 1 (or use 1.0: all shared)"
            )
    if bandwidth_rule == "code" and n_fixed < 2:
        raise ValueError(
            f"the 'code' bandwidth divides by log(n_fixed), so n_fixed must be >= 2, got {n_fixed} "
            "(use bandwidth_rule='paper')"
        )
    return n_updated
