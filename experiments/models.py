"""Build SQL, DDPG, SAC and TD3 from a task's hyperparameters, read their Q functions, and save and load
the weights that one run hands to another (pretraining -> fine-tuning, constituents -> composition).

Weights files (``artifacts/model.zip``, :func:`save_weights`) are SB3 zip files holding only what a
policy needs: the policy's online networks (SQL: Q and sampler; DDPG: actor and critic; SAC: actor and
critics) and, for SAC with automatic entropy tuning, ``log_ent_coef``. No target networks (they are
copies of the online networks when loaded), no optimizer state, no replay buffer: a fine-tuned model
starts with fresh Adam moments and an empty buffer (deviation ``finetune-initialisation``). They are
small enough to commit, and are not loadable with ``SQL.load`` (which wants the optimizers too); use
:func:`load_weights` into a model, or :func:`load_policy` for the policy alone.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any, SupportsIndex

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_zip_file, save_to_zip_file

from baselines import make_action_noise
from experiments import refs
from experiments.algorithms import ALGORITHMS
from experiments.config import WARMUPS, ResolvedConfig
from softq import SQL
from softq.schedules import with_learning_rates

TARGET_NETWORKS = {"qf_target": "qf", "actor_target": "actor", "critic_target": "critic"}  # target -> online


class _PolicyWarmup:
    """Mixin: act with the policy (plus the algorithm's action noise) during the warm-up too.

    SB3 acts uniformly at random for the first ``learning_starts`` steps and only gates training on it;
    Algorithm 1 acts with the policy from the first step. For a policy initialised from pretraining the
    random warm-up would throw its behaviour away, so those runs use this (task file ``warmup: policy``).
    Mixed into any algorithm class by :func:`with_policy_warmup`.
    """

    _warmup_base: type[BaseAlgorithm]  # the algorithm class this mixin was combined with

    def _sample_action(self, learning_starts: int, action_noise=None, n_envs: int = 1):
        return super()._sample_action(0, action_noise, n_envs)  # type: ignore[misc]

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # The class is made at run time, so pickle could not find it by name when a checkpoint (which
        # pickles the whole model) is loaded in a fresh process: pickle the base class and remake it.
        return _new_policy_warmup, (self._warmup_base,), self.__dict__


@functools.cache
def with_policy_warmup(cls: type[BaseAlgorithm]) -> type[BaseAlgorithm]:
    """``cls`` acting with its policy during the warm-up (:class:`_PolicyWarmup`); one class per ``cls``."""
    return type(
        f"PolicyWarmup{cls.__name__}", (_PolicyWarmup, cls), {"_warmup_base": cls, "__module__": __name__}
    )


def _new_policy_warmup(base: type[BaseAlgorithm]) -> BaseAlgorithm:
    cls = with_policy_warmup(base)
    return cls.__new__(cls)


# Checkpoints of runs started before with_policy_warmup pickled the model's class by these names; a
# resume of such a run (``python -m experiments run`` again) unpickles it through here.
_PICKLED_WARMUP_NAMES = {
    "PolicyWarmupSQL": "sql",
    "PolicyWarmupDDPG": "ddpg",
    "PolicyWarmupSAC": "sac",
    "PolicyWarmupTD3": "td3",
}


def __getattr__(name: str) -> Any:
    if name in _PICKLED_WARMUP_NAMES:
        return with_policy_warmup(ALGORITHMS[_PICKLED_WARMUP_NAMES[name]].load_class())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def algorithm_class(algo: str, warmup: str = "random") -> type[BaseAlgorithm]:
    """The class of algorithm ``algo`` (a key of :data:`experiments.algorithms.ALGORITHMS`)."""
    if warmup not in WARMUPS:
        raise ValueError(f"unknown warmup {warmup!r}; valid: {sorted(WARMUPS)}")
    cls = ALGORITHMS[algo].load_class()
    return with_policy_warmup(cls) if warmup == "policy" else cls


def algorithm_key(model: BaseAlgorithm) -> str:
    """The algorithm (key of :data:`experiments.algorithms.ALGORITHMS`) of a model: the first whose class
    it is an instance of (the table lists a subclass before its base)."""
    for key, algorithm in ALGORITHMS.items():
        if isinstance(model, algorithm.load_class()):
            return key
    raise TypeError(f"not one of the suite's algorithms: {type(model).__name__}")


def resolved_arguments(model: BaseAlgorithm, arguments: dict[str, Any]) -> dict[str, Any]:
    """Every constructor argument of ``model`` as it was built: ``arguments`` (:func:`make_model`'s) with
    the class's defaults filled in, read up the class hierarchy while a constructor passes
    ``**kwargs`` on (HardTargetDDPG -> DDPG -> TD3), and scalar values replaced by the model's own
    attribute where it has one (HardTargetDDPG runs SB3's Polyak step with tau = 0). JSON-friendly; this
    is what a run's manifest records under ``resolved``."""
    resolved = dict(arguments)
    for cls in type(model).__mro__:
        if "__init__" not in vars(cls):
            continue
        parameters = inspect.signature(cls.__init__).parameters.values()
        for parameter in parameters:
            if parameter.default is not inspect.Parameter.empty and not parameter.name.startswith("_"):
                resolved.setdefault(parameter.name, parameter.default)
        if all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in parameters):
            break
    for name, value in resolved.items():
        actual = getattr(model, name, None)
        if isinstance(value, bool | int | float | str) and isinstance(actual, bool | int | float | str):
            resolved[name] = actual
    return _json_friendly(resolved)


def _json_friendly(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_friendly(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_json_friendly(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def make_model(config: ResolvedConfig, env: gym.Env, *, seed: int) -> BaseAlgorithm:
    """A fresh model of a run: :func:`build_model` from its resolved configuration."""
    return build_model(config.algorithm, env, config.arguments, seed=seed, warmup=config.warmup)


def build_model(
    algo: str, env: gym.Env, arguments: dict[str, Any], *, seed: int, warmup: str = "random"
) -> BaseAlgorithm:
    """A fresh model of algorithm ``algo`` from its constructor ``arguments``
    (:func:`experiments.config.resolve_arguments`), with the seed, the device and the policy class for the
    env's observations unless the arguments name one (``"module:Class"``). Its :func:`resolved_arguments`
    are kept on it as ``resolved_arguments`` for the run's manifest. ``warmup="policy"``: act with the
    policy during the warm-up (see :class:`_PolicyWarmup`)."""
    arguments = {**arguments, "seed": seed, "verbose": 0, "device": "cpu"}
    if "policy" not in arguments:  # a task may name a policy class of its own ("module:Class")
        arguments["policy"] = (
            "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"
        )
    kwargs = dict(arguments)
    if isinstance(kwargs.get("train_freq"), list):  # YAML's [1, episode]: SB3 wants a tuple
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    kwargs["policy"] = refs.load(kwargs["policy"]) if ":" in kwargs["policy"] else kwargs["policy"]
    kwargs = with_learning_rates(kwargs)  # rl-zoo3's "lin_<initial>"; the manifest keeps the string
    if "action_noise" in kwargs:
        kwargs["action_noise"] = make_action_noise(env.action_space, kwargs["action_noise"])
    model = algorithm_class(algo, warmup)(env=env, **kwargs)
    model.resolved_arguments = resolved_arguments(model, arguments)  # action noise as its config entry
    return model


# --- weights ---------------------------------------------------------------------------------------


def _is_target(key: str) -> bool:
    return key.split(".", 1)[0] in TARGET_NETWORKS


def save_weights(model: BaseAlgorithm, path: str | Path) -> Path:
    """Write the policy's online weights (see the module docstring) to ``path`` (a .zip)."""
    state = {k: v.detach().clone() for k, v in model.policy.state_dict().items() if not _is_target(k)}
    data = {
        "algorithm": algorithm_key(model),
        "policy_class": type(model.policy),
        "observation_space": model.observation_space,
        "action_space": model.action_space,
        "policy_kwargs": dict(model.policy_kwargs),
        "num_timesteps": int(model.num_timesteps),
        "reward_scale": getattr(model, "reward_scale", None),
    }
    variables = {}
    if isinstance(getattr(model, "log_ent_coef", None), th.Tensor):
        variables["log_ent_coef"] = model.log_ent_coef.detach().clone()
    path = Path(path)
    save_to_zip_file(path, data=data, params={"policy": state}, pytorch_variables=variables)
    return path


def read_weights(path: str | Path) -> tuple[dict[str, Any], dict[str, th.Tensor], dict[str, th.Tensor]]:
    """(metadata, policy state dict without targets, extra variables) of a weights file."""
    data, params, variables = load_from_zip_file(Path(path), device="cpu")
    if data is None or "algorithm" not in data or "policy" not in params:
        raise ValueError(f"{path} is not a weights file written by experiments.models.save_weights")
    return data, params["policy"], variables or {}


def _load_policy_state(policy: BasePolicy, state: dict[str, th.Tensor], source: str) -> None:
    try:
        missing, unexpected = policy.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatch: another network size
        raise ValueError(
            f"the weights in {source} do not fit this model's networks (another net_arch?): {error}"
        ) from error
    missing = [k for k in missing if not _is_target(k)]
    if missing or unexpected:
        raise ValueError(
            f"the weights in {source} do not match this policy: missing {missing}, "
            f"unexpected {list(unexpected)}"
        )
    for target, online in TARGET_NETWORKS.items():
        if hasattr(policy, target):
            getattr(policy, target).load_state_dict(getattr(policy, online).state_dict())


def load_weights(model: BaseAlgorithm, path: str | Path) -> dict[str, Any]:
    """Load a weights file into ``model``'s policy: online networks from the file, targets copied from
    them, SAC's ``log_ent_coef`` too; optimizer states and the replay buffer are left as they are.

    Raises ValueError if the file is of another algorithm, observation or action space, or network size.
    Returns the file's metadata.
    """
    data, state, variables = read_weights(path)
    key = algorithm_key(model)
    if data["algorithm"] != key:
        raise ValueError(f"{path} holds {data['algorithm']} weights; this model is {key}")
    for space in ("observation_space", "action_space"):
        if data[space] != getattr(model, space):
            raise ValueError(
                f"{path} was trained with {space} {data[space]}; this model has {getattr(model, space)}"
            )
    _load_policy_state(model.policy, state, str(path))
    if "log_ent_coef" in variables and isinstance(getattr(model, "log_ent_coef", None), th.Tensor):
        with th.no_grad():
            model.log_ent_coef.copy_(variables["log_ent_coef"])
    return data


def load_policy(path: str | Path) -> BasePolicy:
    """The policy of a weights file on its own (evaluation mode), e.g. to roll it out or read its Q."""
    data, state, _ = read_weights(path)
    policy = data["policy_class"](
        data["observation_space"], data["action_space"], lambda _: 0.0, **data["policy_kwargs"]
    )
    _load_policy_state(policy, state, str(path))
    policy.set_training_mode(False)
    return policy


def q_values(model: BaseAlgorithm, observations: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Q(s, a) for a batch of observations (N, obs) and normalised actions (N, act) in [-1, 1].

    SQL: its soft Q (on the reward_scale = 1/alpha scale). DDPG/SAC/TD3: the first critic."""
    obs = th.as_tensor(observations, dtype=th.float32)
    act = th.as_tensor(actions, dtype=th.float32)
    with th.no_grad():
        if isinstance(model, SQL):
            return model.policy.qf(model.policy.features(obs), act).numpy()
        return model.critic.q1_forward(obs, act).squeeze(-1).numpy()
