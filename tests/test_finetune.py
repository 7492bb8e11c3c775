"""Pretraining -> fine-tuning (paper Sec. 5.3, App. D.1): schedules by hand, the fixed noise set, weights
handed from a pretraining run to a fine-tuning run, clear errors, and the CLI's dependency order."""

import dataclasses
import json
import math

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch as th

from experiments import layout
from experiments.cli import main
from experiments.config import ConfigError, resolve_arguments
from experiments.models import build_model, load_policy, load_weights, save_weights, with_policy_warmup
from experiments.registry import dependency_order, get_experiment
from experiments.runner import MissingInitRunError, RunSpec, run
from experiments.tasks import pretrain
from experiments.tasks.finetune import training as finetune
from experiments.tasks.finetune.training import NoiseSetSQLPolicy
from experiments.tasks.pretrain.figures import figure_7
from softq import SQL
from softq.schedules import linear_count, log_linear

FINETUNE_ENVS = ("softq/AntWideHallway-v1", "softq/AntNarrowHallway-v1", "softq/AntUMaze-v1")
TINY = dict(learning_starts=50, batch_size=16, policy_kwargs=dict(net_arch=[32, 32]))


# --- schedules ---------------------------------------------------------------------------------------


def test_log_linear_alpha_schedule_by_hand():
    alpha = log_linear(0.1, 0.001, 20)
    assert alpha(0) == 0.1
    assert alpha(10) == pytest.approx(0.01, rel=1e-12)  # midpoint in log space: sqrt(0.1 * 0.001)
    assert alpha(5) == pytest.approx(0.1 * 0.01**0.25, rel=1e-12)  # 0.0316...
    assert alpha(20) == 0.001 and alpha(21) == 0.001 and alpha(500) == 0.001
    scale = log_linear(10, 1000, 20)  # the same schedule as reward_scale = 1 / alpha
    assert [scale(e) for e in (0, 10, 20, 30)] == pytest.approx([10, 100, 1000, 1000], rel=1e-12)
    assert all(scale(e) == pytest.approx(1 / alpha(e), rel=1e-12) for e in range(25))


def test_linear_count_noise_set_schedule_by_hand():
    size = linear_count(32, 1, 20)
    assert size(0) == 32
    assert size(10) == 17  # 32 - 31 / 2 = 16.5, rounded up
    assert size(19) == 3  # 32 - 31 * 19 / 20 = 2.55
    assert size(20) == 1 and size(21) == 1 and size(200) == 1
    values = [size(e) for e in range(21)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))  # never grows
    assert [linear_count(21, 1, 20)(e) for e in range(25)] == [21 - e for e in range(21)] + [1] * 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: log_linear(0.0, 1.0, 20), "positive"),
        (lambda: log_linear(1.0, 0.1, -1), "non-negative"),
        (lambda: linear_count(0, 1, 20), "integers >= 1"),
        (lambda: log_linear(1.0, 0.1, 5)(-1), "epoch"),
    ],
)
def test_bad_schedules_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- the fixed noise set ---------------------------------------------------------------------------


@pytest.fixture
def sql():
    return SQL(NoiseSetSQLPolicy, gym.make("softq/MultiGoal-v0"), seed=0, **TINY)


OBS = np.array([1.5, -0.5], dtype=np.float32)


def _sampler_at(model, noise):
    with th.no_grad():
        return model.policy.sampler(th.as_tensor(OBS)[None], th.as_tensor(noise, dtype=th.float32)[None])[
            0
        ].numpy()


def test_noise_set_of_one_row_makes_the_policy_deterministic(sql):
    xi = th.tensor([[0.7, -1.2]])
    sql.policy.set_noise_set(xi)
    actions = np.stack([sql.predict(OBS, deterministic=False)[0] for _ in range(20)])
    assert np.ptp(actions, axis=0).max() == 0.0
    np.testing.assert_allclose(actions[0], _sampler_at(sql, xi[0]), rtol=1e-6)
    np.testing.assert_allclose(sql.predict(OBS, deterministic=True)[0], actions[0], rtol=1e-6)
    assert not np.allclose(actions[0], _sampler_at(sql, [0.0, 0.0]))  # xi_1, not zero noise


def test_noise_set_draws_only_from_its_rows_and_uniformly(sql):
    rows = th.tensor([[0.0, 0.0], [1.5, 0.5], [-1.0, 2.0]])
    sql.policy.set_noise_set(rows)
    expected = np.stack([_sampler_at(sql, r) for r in rows])
    th.manual_seed(0)
    actions = np.stack([sql.predict(OBS, deterministic=False)[0] for _ in range(300)])
    distance = np.abs(actions[:, None, :] - expected[None]).max(-1)  # (300, 3)
    assert (distance.min(1) < 1e-6).all()  # every action is one of the three
    counts = np.bincount(distance.argmin(1), minlength=3)
    assert counts.min() > 60  # uniform: 100 each expected; P(< 60) ~ 1e-5
    np.testing.assert_allclose(sql.predict(OBS, deterministic=True)[0], expected[0], rtol=1e-6)
    sql.policy.set_noise_set(None)  # back to N(0, I)
    np.testing.assert_allclose(
        sql.predict(OBS, deterministic=True)[0], _sampler_at(sql, [0.0, 0.0]), rtol=1e-6
    )
    many = np.stack([sql.predict(OBS, deterministic=False)[0] for _ in range(20)])
    assert len(np.unique(many.round(6), axis=0)) == 20


@pytest.mark.parametrize(
    "bad", [th.zeros(0, 2), th.zeros(3, 3), th.zeros(2), th.tensor([[0.0, float("nan")]])]
)
def test_noise_set_of_wrong_shape_or_values_is_rejected(sql, bad):
    with pytest.raises(ValueError, match="noise_set"):
        sql.policy.set_noise_set(bad)


def test_svgd_particles_come_from_the_noise_set(sql):
    rows = th.tensor([[0.0, 0.0], [1.5, 0.5], [-1.0, 2.0]])
    sql.learn(60)
    sql.policy.set_noise_set(rows)
    seen = []
    handle = sql.policy.sampler.register_forward_pre_hook(
        lambda module, args: seen.append(args[1].detach().clone())
    )
    sql.learn(5, reset_num_timesteps=False)
    handle.remove()
    noise = th.cat([n.reshape(-1, 2) for n in seen])
    assert len(noise) > 5 * sql.kernel_n_particles
    assert ((noise[:, None, :] - rows[None]).abs().amax(-1).amin(1) == 0).all()


def test_noise_set_is_saved_and_loaded_with_the_policy(sql, tmp_path):
    rows = th.tensor([[0.0, 0.0], [1.5, 0.5]])
    sql.policy.set_noise_set(rows)
    sql.save(tmp_path / "with_set")
    loaded = SQL.load(tmp_path / "with_set")
    assert th.equal(loaded.policy.noise_set, rows)
    sql.policy.set_noise_set(None)
    sql.save(tmp_path / "without")
    loaded.set_parameters(str(tmp_path / "without.zip"))
    assert loaded.policy.noise_set is None


def test_policy_warmup_acts_with_the_policy(sql):
    """SB3 acts uniformly at random before learning_starts; warmup 'policy' acts with the sampler."""
    env = gym.make("softq/MultiGoal-v0")
    xi = th.tensor([[0.3, -0.4]])
    for cls, acts_with_policy in ((with_policy_warmup(SQL), True), (SQL, False)):
        model = cls(NoiseSetSQLPolicy, env, seed=1, **TINY)
        model.policy.set_noise_set(xi)  # one row: the policy is deterministic, so its actions are known
        model.learn(20)  # all inside the warm-up (learning_starts 50)
        obs = th.as_tensor(model.replay_buffer.observations[:20, 0])
        with th.no_grad():
            policy_actions = model.policy.sampler(obs, xi.expand(20, 2)).numpy()
        stored = model.replay_buffer.actions[:20, 0]
        assert np.allclose(stored, policy_actions, atol=1e-6) == acts_with_policy


def test_policy_warmup_class_pickles_and_is_made_once():
    """Checkpoints pickle the whole model: the warm-up class, made at run time, must load in a fresh
    process."""
    import pickle
    import subprocess
    import sys

    from baselines import HardTargetDDPG

    assert with_policy_warmup(SQL) is with_policy_warmup(SQL)
    model = with_policy_warmup(HardTargetDDPG)(
        "MlpPolicy", gym.make("softq/MultiGoal-v0"), learning_starts=10, seed=0
    )
    model.learn(20)
    data = pickle.dumps(model)
    check = (
        "import pickle, sys; m = pickle.loads(sys.stdin.buffer.read()); "
        "print(type(m).__name__, type(m).__mro__[2].__name__, m.num_timesteps)"
    )
    out = subprocess.run([sys.executable, "-c", check], input=data, capture_output=True, check=True).stdout
    assert out.decode().split() == ["PolicyWarmupHardTargetDDPG", "HardTargetDDPG", "20"]


def test_schedule_hook_sets_temperature_and_noise_set_by_hand(sql):
    schedule = {
        "alpha": {"start": 0.1, "end": 0.001, "epochs": 20},
        "noise_set": {"start": 32, "end": 1, "epochs": 20},
    }
    assert finetune.apply_schedule(sql, 0, schedule, seed=3) == {"alpha": 0.1, "noise_set_size": 32}
    first = sql.policy.noise_set.clone()
    assert sql.reward_scale == pytest.approx(10.0)
    assert th.equal(first[0], th.zeros(2))  # xi_1 = 0: the deterministic policy is the sampler at zero noise
    applied = finetune.apply_schedule(sql, 10, schedule, seed=3)
    assert applied["alpha"] == pytest.approx(0.01) and applied["noise_set_size"] == 17
    assert sql.reward_scale == pytest.approx(100.0)
    assert th.equal(sql.policy.noise_set, first[:17])  # the set shrinks; its rows stay
    finetune.apply_schedule(sql, 25, schedule, seed=3)
    assert sql.reward_scale == pytest.approx(1000.0) and sql.policy.noise_set_size == 1
    finetune.apply_schedule(sql, 0, schedule, seed=4)
    assert not th.equal(sql.policy.noise_set, first)  # another run, another set
    assert finetune.apply_schedule(sql, 5, {}, seed=3) == {}
    with pytest.raises(ValueError, match="unknown schedule"):
        finetune.apply_schedule(sql, 0, {"beta": {}}, seed=0)


def test_task_files_agree_on_temperature_and_networks():
    pre, fine = get_experiment("pretrain").config, get_experiment("finetune").config
    _, source = pre.hyperparameters("sql", "alpha0.1_clip")
    _, target = fine.hyperparameters("sql_pretrained")
    assert target["schedule"]["alpha"]["start"] == pytest.approx(1.0 / source["reward_scale"]) == 0.1
    assert target["schedule"]["alpha"]["end"] == 0.001 and target["schedule"]["alpha"]["epochs"] == 20
    assert target["schedule"]["noise_set"]["end"] == 1 and target["schedule"]["noise_set"]["epochs"] == 20
    for algo in fine.algos:
        init = fine.init_from(algo)
        if init is not None:
            assert init.experiment == "pretrain" and init.algo in pre.algos
            _, pretrained = pre.hyperparameters(init.algo, init.preset)  # the preset exists
            assert pretrained["policy_kwargs"] == fine.hyperparameters(algo)[1]["policy_kwargs"]
            assert fine.algorithm(algo) == pre.algorithm(init.algo) and fine.warmup(algo) == "policy"
    assert {pre.hyperparameters(f"sql_alpha{a}")[1]["reward_scale"] for a in ("10", "1", "0.01")} == {
        0.1,
        1.0,
        100.0,
    }


# --- weights across tasks ------------------------------------------------------------------------


def _state(policy):
    return {k: v.clone() for k, v in policy.state_dict().items()}


@pytest.mark.parametrize(
    ("source_algo", "target_algo"),
    [("sql", "sql_pretrained"), ("ddpg", "ddpg_pretrained"), ("sac", "sac_pretrained")],
)
def test_pretrained_weights_load_on_every_downstream_env(tmp_path, source_algo, target_algo):
    pre, fine = get_experiment("pretrain").config, get_experiment("finetune").config
    _, source_hp = pre.hyperparameters(source_algo)
    algorithm = pre.algorithm(source_algo)
    source = build_model(
        algorithm,
        gym.make(pre.env),
        resolve_arguments(algorithm, source_hp, gamma=0.99, total_steps=100),
        seed=0,
    )
    if hasattr(source, "log_ent_coef"):
        with th.no_grad():
            source.log_ent_coef.fill_(-1.5)
    path = save_weights(source, tmp_path / "model.zip")
    online = {k: v for k, v in _state(source.policy).items() if "_target" not in k}
    for env_id in FINETUNE_ENVS:
        _, target_hp = fine.hyperparameters(target_algo)
        target_hp.pop("schedule", None)
        target_arguments = resolve_arguments(
            fine.algorithm(target_algo), target_hp, gamma=0.99, total_steps=100
        )
        target = build_model(fine.algorithm(target_algo), gym.make(env_id), target_arguments, seed=1)
        before = _state(target.policy)
        load_weights(target, path)
        after = _state(target.policy)
        assert set(after) == set(before)
        for key, value in after.items():
            source_key = key.replace("_target", "")  # targets are copies of the loaded online networks
            assert th.equal(value, online[source_key]), key
        assert any(not th.equal(before[k], after[k]) for k in after)
        if hasattr(target, "log_ent_coef"):
            assert target.log_ent_coef.item() == pytest.approx(-1.5)


def test_weights_of_another_algorithm_space_or_size_are_refused(tmp_path):
    ant = gym.make("softq/AntPretrain-v1")
    sql = SQL("MlpPolicy", ant, seed=0, policy_kwargs=dict(net_arch=[32, 32]))
    path = save_weights(sql, tmp_path / "sql.zip")
    with pytest.raises(ValueError, match="holds sql weights"):
        ddpg_arguments = resolve_arguments(
            "ddpg", {"policy_kwargs": {"net_arch": [32, 32]}}, gamma=0.99, total_steps=10
        )
        load_weights(build_model("ddpg", ant, ddpg_arguments, seed=0), path)
    with pytest.raises(ValueError, match="observation_space"):
        load_weights(
            SQL("MlpPolicy", gym.make("softq/MultiGoal-v0"), policy_kwargs=dict(net_arch=[32, 32])), path
        )
    with pytest.raises(ValueError, match="net_arch"):
        load_weights(SQL("MlpPolicy", ant, policy_kwargs=dict(net_arch=[16, 16])), path)
    policy = load_policy(path)  # the policy alone, e.g. for figures
    obs = ant.observation_space.sample()[None]
    np.testing.assert_allclose(
        policy.predict(obs, deterministic=True)[0], sql.predict(obs, deterministic=True)[0], rtol=1e-6
    )


# --- the runner: pretraining run -> fine-tuning run ----------------------------------------------------


def test_finetuning_starts_from_the_pretraining_run_of_the_same_seed(tmp_path):
    pretrain_outcome = run(get_experiment("pretrain"), RunSpec("pretrain", "sql", 0, "smoke"), tmp_path)
    artifacts = pretrain_outcome.folder / layout.ARTIFACTS
    assert (artifacts / layout.WEIGHTS).stat().st_size < 400_000
    traces = pd.read_csv(artifacts / pretrain.TRACES)
    assert (
        list(traces.columns) == ["rollout", "t", "x", "y"]
        and traces["rollout"].nunique() == pretrain.N_TRACES
    )
    pretrained = _state(load_policy(artifacts / layout.WEIGHTS))

    captured = {}

    def hook(model, epoch, schedule, seed):
        captured["model"] = model  # trained in place: after the run, the final model
        if epoch == 0:  # the model as the runner made it, before any fine-tuning step
            captured.update(
                state=_state(model.policy),
                num_timesteps=model.num_timesteps,
                buffer=model.replay_buffer.size(),
                optimizer=dict(model.policy.sampler_optimizer.state),
            )
        return finetune.apply_schedule(model, epoch, schedule, seed)

    experiment = dataclasses.replace(get_experiment("finetune"), epoch_hook=hook)
    outcome = run(
        experiment, RunSpec("finetune", "sql_pretrained", 0, "smoke", env="softq/AntUMaze-v1"), tmp_path
    )
    assert outcome.status == "finished"
    assert captured["num_timesteps"] == 0 and captured["buffer"] == 0 and captured["optimizer"] == {}  # fresh
    for key, value in captured["state"].items():
        assert th.equal(value, pretrained[key.replace("qf_target", "qf")]), key
    manifest = json.loads((outcome.folder / layout.MANIFEST).read_text())
    assert manifest["init_from"]["run"] == "runs/pretrain/softq-AntPretrain-v1/sql/seed_0"
    assert manifest["init_from"]["preset"] == "alpha0.1_clip" and manifest["warmup"] == "policy"
    progress = pd.read_csv(outcome.folder / layout.PROGRESS)
    assert progress["alpha"].tolist() == pytest.approx([0.1, 0.1 * 0.01 ** (1 / 20)])
    assert progress["noise_set_size"].tolist() == [32, 31]
    # the deployed rollouts' centre-of-mass travel (FinetuneMetrics) is logged on the U-maze too
    assert (progress["path_deployed"] > 0).all()
    assert (progress["distance_deployed"] <= progress["path_deployed"] + 1e-9).all()
    assert (progress["travel_x_deployed"].abs() <= progress["distance_deployed"] + 1e-9).all()
    assert progress["length_deployed"].between(1, 500).all()
    assert progress["min_distance_to_target_deployed"].between(4.0, 8.0).all()  # starts 6 m away
    # the final weights are kept, and replay the deployed policy as the model acts
    policy = load_policy(outcome.folder / layout.ARTIFACTS / layout.WEIGHTS)
    observations = np.random.default_rng(0).normal(size=(4, 29))
    model_actions = captured["model"].predict(observations, deterministic=True)[0]
    np.testing.assert_allclose(policy.predict(observations, deterministic=True)[0], model_actions, atol=1e-6)

    fig7 = figure_7(tmp_path, tmp_path / "figures", "smoke", ("png", "pdf"))
    assert [p.name for p in fig7] == ["pretrain_fig7_com_traces.png", "pretrain_fig7_com_traces.pdf"]


def test_missing_pretraining_run_names_the_folder_and_the_command(tmp_path):
    spec = RunSpec("finetune", "ddpg_pretrained", 3, "smoke", env="softq/AntWideHallway-v1")
    with pytest.raises(MissingInitRunError) as error:
        run(get_experiment(spec.experiment), spec, tmp_path)
    message = str(error.value)
    assert str(layout.run_dir(tmp_path, "pretrain", "softq/AntPretrain-v1", "ddpg", 3)) in message
    assert "does not exist" in message
    assert (
        "python -m experiments run pretrain --algos ddpg --preset paper --seeds 3 --profile smoke "
        f"--out {tmp_path}" in message
    )
    assert not (tmp_path / layout.RUNS / "finetune").exists()
    assert isinstance(error.value, ConfigError)  # the CLI prints it and exits with code 2


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ({"status": "running", "profile": "smoke", "preset": "alpha0.1_clip"}, "is not finished"),
        (
            {"status": "finished", "profile": "quick", "preset": "alpha0.1_clip"},
            "ran with profile 'quick', not 'smoke'",
        ),
        (
            {"status": "finished", "profile": "smoke", "preset": "alpha0.1"},
            "ran with preset 'alpha0.1', not 'alpha0.1_clip'",
        ),
        ({"status": "finished", "profile": "smoke", "preset": "alpha0.1_clip"}, "has no artifacts/model.zip"),
    ],
)
def test_pretraining_run_of_another_configuration_is_refused(tmp_path, manifest, problem):
    folder = layout.run_dir(tmp_path, "pretrain", "softq/AntPretrain-v1", "sql", 0)
    folder.mkdir(parents=True)
    (folder / layout.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(MissingInitRunError, match=problem):
        run(
            get_experiment("finetune"),
            RunSpec("finetune", "sql_pretrained", 0, "smoke", env="softq/AntNarrowHallway-v1"),
            tmp_path,
        )


def test_multi_env_experiment_needs_a_valid_env(tmp_path):
    with pytest.raises(ConfigError, match="several envs"):
        run(get_experiment("finetune"), RunSpec("finetune", "ddpg_scratch", 0, "smoke"), tmp_path)
    with pytest.raises(ConfigError, match=r"unknown env 'softq/AntMaze-v0'.*valid envs"):
        run(
            get_experiment("finetune"),
            RunSpec("finetune", "ddpg_scratch", 0, "smoke", env="softq/AntMaze-v0"),
            tmp_path,
        )
    assert not (tmp_path / layout.RUNS).exists()


# --- the CLI -----------------------------------------------------------------------------------------


def test_cli_runs_pretraining_before_finetuning_over_every_env(tmp_path, monkeypatch):
    assert dependency_order(["finetune", "multigoal", "pretrain"]) == [
        ["multigoal", "pretrain"],
        ["finetune"],
    ]
    stages = []
    monkeypatch.setattr(
        "experiments.cli.launch", lambda specs, root, **kwargs: stages.append(list(specs)) or []
    )
    # 'sql' is an algo of pretrain but not of finetune: the request is rejected before anything runs
    assert (
        main(["run", "finetune", "pretrain", "--profile", "smoke", "--out", str(tmp_path), "--algos", "sql"])
        == 2
    )
    assert stages == []
    assert (
        main(["run", "finetune", "pretrain", "--profile", "smoke", "--out", str(tmp_path), "--seeds", "0,1"])
        == 0
    )
    assert [{s.experiment for s in stage} for stage in stages] == [{"pretrain"}, {"finetune"}]
    finetune_specs = stages[1]
    assert len(finetune_specs) == 3 * 5 * 2
    assert {(s.env, s.algo, s.seed) for s in finetune_specs} == {
        (env, algo, seed)
        for env in FINETUNE_ENVS
        for algo in get_experiment("finetune").algos
        for seed in (0, 1)
    }
    assert {s.algo for s in stages[0]} == {"sql", "sql_alpha10", "sql_alpha1", "sql_alpha0.01", "ddpg", "sac"}
    assert all(s.env is None for s in stages[0])  # single-env experiments keep env unset


def test_cli_status_lists_runs_per_env(tmp_path, capsys):
    assert (
        main(["status", "finetune", "--profile", "smoke", "--algos", "ddpg_scratch", "--out", str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "missing   finetune/softq-AntUMaze-v1/ddpg_scratch/seed_0" in out and "3 missing" in out
    assert (
        main(
            ["status", "finetune", "--profile", "smoke", "--envs", "softq/AntMaze-v0", "--out", str(tmp_path)]
        )
        == 2
    )


def test_epoch_count_helpers_are_consistent():
    """The quick profile leaves epochs after the 20-epoch schedules; the paper profile has 200 epochs [P]."""
    fine = get_experiment("finetune").config
    assert fine.budget("paper").n_epochs == 200 and fine.budget("paper").steps_per_epoch == 10_000
    assert fine.budget("quick").n_epochs > 20
    assert math.isclose(log_linear(0.1, 0.001, 20)(fine.budget("quick").n_epochs - 1), 0.001)
