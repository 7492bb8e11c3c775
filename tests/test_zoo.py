"""SQL's tuned settings for standard tasks (softq/configs/zoo.yaml) and the experiments that measure them."""

import json

import gymnasium as gym
import pytest
from stable_baselines3.common.type_aliases import TrainFrequencyUnit

from experiments.config import ConfigError, load_task, resolve_arguments
from experiments.models import make_model
from softq import SQL, load_presets
from softq.schedules import learning_rate


def test_zoo_entries_are_presets_without_the_budget_and_policy_keys():
    pendulum = load_presets()["zoo/Pendulum-v1"]
    assert "n_timesteps" not in pendulum and "policy" not in pendulum
    model = SQL.from_preset("zoo/Pendulum-v1", "MlpPolicy", "Pendulum-v1", learning_starts=10)
    assert (model.reward_scale, model.tau, model.target_update_interval) == (
        pendulum["reward_scale"],
        0.005,
        1,
    )
    assert model.learning_starts == 10  # overrides win
    with pytest.raises(ValueError, match=r"unknown SQL preset 'zoo/Pong-v5'.*zoo/Pendulum-v1"):
        SQL.from_preset("zoo/Pong-v5", "MlpPolicy", "Pendulum-v1")


def test_rl_zoo_episode_train_freq_reaches_sb3_as_a_tuple():
    """rl-zoo3's ``train_freq: [1, episode]`` (TD3/DDPG on Pendulum) is a YAML list; SB3 needs a tuple."""
    config = load_task("pendulum").resolve("td3", "quick", "Pendulum-v1")
    model = make_model(config, gym.make("Pendulum-v1"), seed=0)
    assert model.train_freq.frequency == 1 and model.train_freq.unit == TrainFrequencyUnit.EPISODE
    assert model.gradient_steps == -1 and model.gamma == 0.98
    assert model.resolved_arguments["train_freq"] == [1, "episode"]


def test_rl_zoo_linear_learning_rates_become_sb3_schedules_and_other_strings_are_refused():
    schedule = learning_rate("lin_7.3e-4")
    assert [schedule(p) for p in (1.0, 0.5, 0.0)] == pytest.approx([7.3e-4, 3.65e-4, 0.0])
    assert learning_rate(1e-3) == 1e-3
    for bad in ("lin_fast", "lin_-1e-3", "lin_", "exp_1e-3"):
        with pytest.raises(ValueError, match=f"learning rate '{bad}' is neither a number nor rl-zoo3's"):
            learning_rate(bad)
    with pytest.raises(ValueError, match=r"YAML reads 1e-3 as a string: write 1.0e-3"):
        learning_rate("1e-3")


def test_the_runner_decays_a_linear_learning_rate_once_over_the_whole_run(tmp_path, monkeypatch):
    """The runner trains one epoch per ``learn()`` call, and SB3 measures progress against each call's own
    end: without :class:`~experiments.runner.RunProgress` rl-zoo3's ``lin_7.3e-4`` (LunarLander) would be
    back at 0 after every epoch. Over 2 epochs it is at half its start after the first, 0 after the last."""
    from experiments import layout, runner
    from experiments.registry import get_experiment

    rates = []
    save = runner.save_checkpoint

    def record_then_save(folder, model, epoch, *rest):
        optimizers = (model.policy.qf_optimizer, model.policy.sampler_optimizer)
        rates.append([group["lr"] for optimizer in optimizers for group in optimizer.param_groups])
        save(folder, model, epoch, *rest)

    monkeypatch.setattr(runner, "save_checkpoint", record_then_save)
    spec = runner.RunSpec("lunarlander", "sql_scale3", 0, "smoke")  # 2 epochs of 200 steps, updates from 100
    outcome = runner.run(get_experiment("lunarlander"), spec, tmp_path, checkpoint_every_s=0)
    assert rates == [pytest.approx([3.65e-4, 3.65e-4]), pytest.approx([0.0, 0.0])]
    manifest = json.loads((outcome.folder / layout.MANIFEST).read_text())
    assert (
        manifest["resolved"]["learning_rate"] == manifest["resolved"]["sampler_learning_rate"] == "lin_7.3e-4"
    )


def test_a_task_naming_an_sql_preset_that_does_not_exist_is_refused_in_one_line():
    """LunarLander's task file has no ``sql`` entry until its sweep puts ``zoo/LunarLanderContinuous-v3``
    into zoo.yaml; a task that names a missing preset gets a ConfigError, not a KeyError."""
    with pytest.raises(ConfigError, match=r"unknown sql preset 'zoo/Nope-v0'; valid presets: \['code'"):
        resolve_arguments("sql", {"preset": "zoo/Nope-v0"}, gamma=0.99, total_steps=1000)


def _synthetic_pendulum(root, algo, seed, final, reward_scale=None):
    from experiments import layout
    from experiments.analysis import synthetic

    extra = {} if reward_scale is None else {"resolved": {"reward_scale": reward_scale}}
    return synthetic.write_run(
        root,
        "pendulum",
        "Pendulum-v1",
        algo,
        seed,
        {layout.EVAL_RETURN_DEPLOYED: [-1500.0, final]},
        manifest_extra=extra,
        profile="quick",
        preset="zoo",
    )


def test_zoo_tables_report_iqm_over_seeds_and_the_sweep_winner(tmp_path):
    from experiments.analysis import load_runs
    from experiments.analysis.zoo import returns_table, sweep_table

    finals = [-900.0, -200.0, -180.0, -160.0, -150.0]  # IQM of 5 (trim 1 each side): mean of the middle 3
    for seed, final in enumerate(finals):
        _synthetic_pendulum(tmp_path, "sql", seed, final)
    for seed, final in ((100, -400.0), (101, -300.0)):
        _synthetic_pendulum(tmp_path, "sql_scale1", seed, final, reward_scale=1.0)
    for seed, final in ((100, -200.0), (101, -250.0)):
        _synthetic_pendulum(tmp_path, "sql_scale3", seed, final, reward_scale=3.0)
    df, problems = load_runs(tmp_path)
    assert not problems
    returns = returns_table(df, reps=200)
    assert list(returns["algo"]) == ["sql"]  # the sweep's runs are not reported as results
    row = returns.iloc[0]
    assert row["iqm"] == pytest.approx((-200 - 180 - 160) / 3) and row["n"] == 5
    assert row["ci_low"] <= row["iqm"] <= row["ci_high"]
    sweeps = sweep_table(df, tmp_path)
    assert list(sweeps["reward_scale"]) == [1.0, 3.0]
    assert list(sweeps["mean"]) == [-350.0, -225.0] and list(sweeps["chosen"]) == [False, True]


@pytest.mark.slow
def test_sql_with_its_zoo_preset_learns_pendulum_as_sac_does():
    """Pendulum-v1 swung up and held: SQL with ``zoo/Pendulum-v1`` reaches a deterministic return that SAC
    (rl-zoo3's learning rate, the same network and batch) reaches in the same number of steps. A random
    policy scores about -1200; the reward_scale sweep's runs pass -400 after 4-6k steps."""
    from stable_baselines3 import SAC
    from stable_baselines3.common.evaluation import evaluate_policy

    steps, threshold = 6000, -400.0
    sql = SQL.from_preset("zoo/Pendulum-v1", "MlpPolicy", "Pendulum-v1", seed=0)
    sac = SAC(
        "MlpPolicy",
        "Pendulum-v1",
        learning_rate=1e-3,
        batch_size=128,
        policy_kwargs=dict(net_arch=[128, 128]),
        seed=0,
    )
    returns = {}
    for name, model in (("sac", sac), ("sql", sql)):
        model.learn(steps)
        env = gym.make("Pendulum-v1")
        env.reset(seed=1)
        returns[name], _ = evaluate_policy(model, env, n_eval_episodes=5, deterministic=True)
    assert returns["sac"] >= threshold, returns  # the bar is one SAC clears
    assert returns["sql"] >= threshold, returns


def test_zoo_presets_hold_the_scale_their_committed_sweep_chose():
    """Every tuned task's reward_scale in softq/configs/zoo.yaml is the one its committed sweep keeps, and its
    reported SQL runs were built from exactly the swept settings but for that scale."""
    import json
    from pathlib import Path

    from experiments import layout
    from experiments.analysis import load_runs
    from experiments.analysis.zoo import SWEEP_PREFIX, sweep_table

    root = Path(__file__).resolve().parents[1] / "results"
    df, _ = load_runs(root)
    chosen = sweep_table(df, root).query("chosen")
    presets = load_presets()
    assert {f"zoo/{env}" for env in chosen["env"]} == {name for name in presets if name.startswith("zoo/")}
    for row in chosen.itertuples():
        assert presets[f"zoo/{row.env}"]["reward_scale"] == row.reward_scale, row
        runs = df[(df["experiment"] == row.experiment) & (df["env"] == row.env)]
        resolved = []
        for run in runs[["algo", "seed"]].drop_duplicates().itertuples():
            if run.algo == "sql" or run.algo.startswith(SWEEP_PREFIX):
                folder = layout.run_dir(root, row.experiment, row.env, run.algo, run.seed)
                manifest = json.loads((folder / layout.MANIFEST).read_text())
                resolved.append(
                    {k: v for k, v in manifest["resolved"].items() if k not in ("seed", "reward_scale")}
                )
        assert all(args == resolved[0] for args in resolved), f"{row.env}: SQL runs differ beyond the scale"
