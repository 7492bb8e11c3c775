"""The deployed SQL policy (the sampler at zero noise) exports to ONNX and gives predict()'s actions, as the
README's recipe shows."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from softq import SQL

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")  # torch.onnx's exporter


class OnnxableSQLPolicy(th.nn.Module):
    """observation -> deterministic action in [-1, 1]^D (rescale to the env's bounds if they differ)."""

    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def forward(self, observation: th.Tensor) -> th.Tensor:
        return self.policy(observation, deterministic=True)


def test_onnx_export_gives_the_deterministic_actions(tmp_path):
    env = gym.make("softq/MultiGoal-v0")  # actions in [-1, 1]^2: predict() needs no rescaling
    model = SQL(
        "MlpPolicy", env, learning_starts=50, batch_size=16, policy_kwargs=dict(net_arch=[32, 32]), seed=0
    )
    model.learn(100)
    observations = np.random.default_rng(0).normal(0.0, 3.0, size=(7, 2)).astype(np.float32)
    path = tmp_path / "sql.onnx"
    th.onnx.export(
        OnnxableSQLPolicy(model.policy),
        (th.as_tensor(observations),),
        str(path),
        input_names=["observation"],
        output_names=["action"],
        dynamic_axes={"observation": {0: "batch"}},
    )
    actions = ort.InferenceSession(str(path)).run(None, {"observation": observations})[0]
    expected, _ = model.predict(observations, deterministic=True)
    np.testing.assert_allclose(actions, expected, rtol=1e-5, atol=1e-6)
    assert np.ptp(expected, axis=0).max() > 1e-3  # different states, different actions: a real comparison
