"""The runner: resume after SIGKILL, clean stop on SIGTERM, determinism, finished runs untouched, clear
errors on bad input."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments import layout
from experiments.cli import main
from experiments.config import ConfigError
from experiments.evaluation import rollout
from experiments.layout import CorruptRunError, RunConflictError, RunLockedError
from experiments.registry import Experiment, get_experiment
from experiments.runner import RunSpec, run
from experiments.tasks.multigoal.training import MultiGoalMetrics

REPO = Path(__file__).resolve().parent.parent
MULTIGOAL_TASK = REPO / "experiments" / "hyperparams" / "multigoal.yaml"


def _task_file(tmp_path: Path, n_epochs: int, steps_per_epoch: int = 100) -> Path:
    """The multi-goal task file with a longer smoke profile, for tests that need time to interrupt."""
    text = MULTIGOAL_TASK.read_text().replace(
        "smoke: {steps_per_epoch: 100, n_epochs: 3, seeds: [0, 1]}",
        f"smoke: {{steps_per_epoch: {steps_per_epoch}, n_epochs: {n_epochs}, seeds: [0]}}",
    )
    assert text != MULTIGOAL_TASK.read_text()
    path = tmp_path / f"longsmoke{n_epochs}.yaml"
    path.write_text(text)
    return path


LONGSMOKE = """
from experiments.registry import Experiment
from experiments.tasks.multigoal.training import MultiGoalMetrics
longsmoke = Experiment("longsmoke", "test", "-", task={task!r}, metrics=MultiGoalMetrics)
"""
# The CLI takes experiment names: its script registers the experiment under one.
REGISTER = (
    LONGSMOKE
    + """
from experiments.registry import EXPERIMENTS
EXPERIMENTS["longsmoke"] = longsmoke
"""
)


@pytest.fixture
def longsmoke(tmp_path) -> Experiment:
    task = _task_file(tmp_path, n_epochs=12)
    return Experiment("longsmoke", "test", "-", task=str(task), metrics=MultiGoalMetrics)


def _progress(root: Path, experiment: str, algo: str, seed: int = 0) -> pd.DataFrame:
    return pd.read_csv(layout.run_dir(root, experiment, "softq/MultiGoal-v0", algo, seed) / layout.PROGRESS)


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_gives_every_epoch_once(tmp_path, longsmoke):
    root = tmp_path / "results"
    folder = layout.run_dir(root, "longsmoke", "softq/MultiGoal-v0", "sql", 0)
    script = LONGSMOKE.format(task=str(longsmoke.task)) + (
        "from experiments.runner import run, RunSpec\n"
        f"run(longsmoke, RunSpec('longsmoke', 'sql', 0, 'smoke'), {str(root)!r}, checkpoint_every_s=0)\n"
    )
    # Kill twice: once right after some epochs were written, once a moment into the resumed run.
    for rows_before_kill in (3, 7):
        process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            progress = folder / layout.PROGRESS
            if progress.exists() and len(progress.read_text().splitlines()) - 1 >= rows_before_kill:
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
    outcome = run(longsmoke, RunSpec("longsmoke", "sql", 0, "smoke"), root, checkpoint_every_s=0)
    assert outcome.status == "resumed"
    progress = _progress(root, "longsmoke", "sql")
    assert progress[layout.EPOCH].tolist() == list(range(1, 13))
    assert progress[layout.STEP].tolist() == [100 * e for e in range(1, 13)]
    manifest = (folder / layout.MANIFEST).read_text()
    assert '"status": "finished"' in manifest and '"resumes"' in manifest


CLI_SCRIPT = (
    REGISTER
    + """
if __name__ == "__main__":  # spawned pool workers import this file too, and register longsmoke the same way
    import sys
    from experiments.cli import main
    sys.exit(main(["run", "longsmoke", "--algos", "sql,ddpg", "--seeds", "0", "--profile", "smoke", \
"--out", {root!r}]))
"""
)


@pytest.mark.slow
def test_sigterm_stops_the_workers_cleanly_and_leaves_the_runs_resumable(tmp_path, longsmoke):
    """SIGTERM to the launcher: the runs in progress mark themselves interrupted, the pool shuts down, no
    semaphore leaks, one line says what happened; the same command then finishes every epoch once."""
    root = tmp_path / "results"
    script = tmp_path / "launch.py"
    script.write_text(CLI_SCRIPT.format(task=str(longsmoke.task), root=str(root)))
    folders = [layout.run_dir(root, "longsmoke", "softq/MultiGoal-v0", algo, 0) for algo in ("sql", "ddpg")]
    process = subprocess.Popen(
        [sys.executable, str(script)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not all((f / layout.PROGRESS).exists() for f in folders):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(
        timeout=300
    )  # until every process holding stderr, the resource tracker too, ended
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "leaked" not in stderr and "Traceback" not in stderr, stderr
    assert "interrupted (SIGTERM)" in stderr
    for folder in folders:
        manifest = json.loads((folder / layout.MANIFEST).read_text())
        assert manifest["status"] == "interrupted" and manifest["resumes_from_epoch"] >= 0
    again = subprocess.run(
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr
    for algo in ("sql", "ddpg"):
        assert _progress(root, "longsmoke", algo)[layout.EPOCH].tolist() == list(range(1, 13))


@pytest.mark.parametrize("algo", ["sql", "ddpg", "sac"])
def test_same_seed_gives_same_progress(tmp_path, algo):
    spec = RunSpec("multigoal", algo, 0, "smoke")
    run(get_experiment("multigoal"), spec, tmp_path / "a")
    run(get_experiment("multigoal"), spec, tmp_path / "b")
    first = _progress(tmp_path / "a", "multigoal", algo).drop(columns=layout.WALL_TIME)
    second = _progress(tmp_path / "b", "multigoal", algo).drop(columns=layout.WALL_TIME)
    pd.testing.assert_frame_equal(first, second)
    assert len(first) == 3


def test_evaluating_ddpg_with_its_training_noise_leaves_its_training_alone(tmp_path, monkeypatch):
    """goals_reached_noise_on comes from extra evaluation episodes of the actor with its OU noise; they draw
    from numpy's global generator, which training also draws from, so the run must be the one it would
    be without them: every other column and the weights equal."""
    spec = RunSpec("multigoal", "ddpg", 0, "smoke")
    with_noise = run(get_experiment("multigoal"), spec, tmp_path / "a")
    monkeypatch.setattr(MultiGoalMetrics, "evaluates_behaviour_noise", False)
    without = run(get_experiment("multigoal"), spec, tmp_path / "b")
    first = _progress(tmp_path / "a", "multigoal", "ddpg").drop(columns=layout.WALL_TIME)
    second = _progress(tmp_path / "b", "multigoal", "ddpg").drop(columns=layout.WALL_TIME)
    assert "goals_reached_noise_on" in first and "goals_reached_noise_on" not in second
    pd.testing.assert_frame_equal(first.drop(columns="goals_reached_noise_on"), second)
    assert first["goals_reached_noise_on"].between(0, 4).all()
    artifacts = with_noise.folder / layout.ARTIFACTS
    assert (artifacts / "rollouts_noise_on.csv").is_file()
    for name in ("rollouts.csv", "q_values.csv"):
        assert (artifacts / name).read_bytes() == (without.folder / layout.ARTIFACTS / name).read_bytes()
    noisy = pd.read_csv(artifacts / "rollouts_noise_on.csv")
    plain = pd.read_csv(artifacts / "rollouts.csv")
    assert not noisy[["x", "y"]].equals(plain[["x", "y"]])  # the noise moves the point mass
    assert noisy.groupby("rollout")[["x", "y"]].last().drop_duplicates().shape[0] > 1  # differently each time


def test_behaviour_noise_rollouts_repeat_at_a_seed_and_restore_numpy():
    import gymnasium as gym
    import numpy as np
    from stable_baselines3 import DDPG
    from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

    env = gym.make("softq/MultiGoal-v0")
    noise = OrnsteinUhlenbeckActionNoise(np.zeros(2), 0.3 * np.ones(2))
    model = DDPG("MlpPolicy", env, action_noise=noise, seed=0)
    np.random.seed(123)  # noqa: NPY002  (SB3's noise draws from the global generator)
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    a, b = (rollout(model, env, deterministic=True, seed=5, behaviour_noise=(noise, 7)) for _ in range(2))
    c = rollout(model, env, deterministic=True, seed=5, behaviour_noise=(noise, 8))
    plain = rollout(model, env, deterministic=True, seed=5)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002  (the global generator untouched)
    assert np.array_equal(a.observations, b.observations)
    assert not np.array_equal(a.observations, c.observations)
    assert not np.array_equal(a.observations, plain.observations)
    assert np.array_equal(noise.noise_prev, np.zeros(2))  # the model's own noise process untouched


def test_finished_run_is_skipped_and_untouched(tmp_path):
    spec = RunSpec("multigoal", "sql", 1, "smoke")
    run(get_experiment("multigoal"), spec, tmp_path)
    folder = layout.run_dir(tmp_path, "multigoal", "softq/MultiGoal-v0", "sql", 1)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
    assert run(get_experiment("multigoal"), spec, tmp_path).status == "skipped"
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
    assert before == after


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RunSpec("maze42", "sql", 0, "smoke"), r"unknown experiment 'maze42'; valid experiments: \["),
        (
            RunSpec("multigoal", "ppo", 0, "smoke"),
            r"unknown algo 'ppo' for multigoal; valid algos: "
            r"\['ddpg', 'sac', 'sql', 'sql_clip', 'sql_paper', 'sql_single_particle'\]",
        ),
        (
            RunSpec("multigoal", "sql", 0, "huge"),
            r"unknown profile 'huge'.*valid profiles: \['paper', 'quick', 'smoke', 'standard'\]",
        ),
        (
            RunSpec("multigoal", "sql", 0, "smoke", preset="nature"),
            r"unknown preset 'nature'.*valid presets: \['code', 'paper'\]",
        ),
        (RunSpec("multigoal", "sql", 0, "smoke", env="Ant-v5"), r"unknown env 'Ant-v5'.*valid envs"),
    ],
)
def test_bad_requests_name_the_problem_and_list_valid_values(tmp_path, spec, message):
    with pytest.raises(ConfigError, match=message):
        run(get_experiment(spec.experiment), spec, tmp_path)
    assert not (tmp_path / layout.RUNS).exists()


def test_zero_budget_is_rejected(tmp_path):
    task = _task_file(tmp_path, n_epochs=0)
    with pytest.raises(ConfigError, match="zero budget"):
        run(Experiment("zero", "test", "-", task=str(task)), RunSpec("zero", "sql", 0, "smoke"), tmp_path)


@pytest.mark.parametrize("content", ["{not json", '{"status": "finished"}'])
def test_corrupt_run_folder_is_reported_and_left_alone(tmp_path, content):
    folder = layout.run_dir(tmp_path, "multigoal", "softq/MultiGoal-v0", "sql", 0)
    folder.mkdir(parents=True)
    (folder / layout.MANIFEST).write_text(content)
    (folder / layout.PROGRESS).write_text("garbage\n")
    with pytest.raises(CorruptRunError, match="manifest.json is not a valid manifest"):
        run(get_experiment("multigoal"), RunSpec("multigoal", "sql", 0, "smoke"), tmp_path)
    assert (folder / layout.MANIFEST).read_text() == content
    assert (folder / layout.PROGRESS).read_text() == "garbage\n"


def test_run_of_another_profile_is_never_overwritten(tmp_path):
    run(get_experiment("multigoal"), RunSpec("multigoal", "sql", 0, "smoke"), tmp_path)
    with pytest.raises(RunConflictError, match="profile='smoke'"):
        run(get_experiment("multigoal"), RunSpec("multigoal", "sql", 0, "quick"), tmp_path)


def test_cli_reports_bad_input_with_exit_code_2(tmp_path, capsys):
    assert main(["run", "nonsense", "--profile", "smoke", "--out", str(tmp_path)]) == 2
    assert "valid experiments" in capsys.readouterr().err


def test_cli_status_lists_finished_partial_and_missing(tmp_path, capsys):
    run(get_experiment("multigoal"), RunSpec("multigoal", "sql", 0, "smoke"), tmp_path)
    partial = layout.run_dir(tmp_path, "multigoal", "softq/MultiGoal-v0", "sql", 1)
    partial.mkdir(parents=True)
    (partial / layout.MANIFEST).write_text('{"status": "running", "profile": "smoke"}')
    assert main(["status", "multigoal", "--profile", "smoke", "--algos", "sql", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "finished  multigoal/sql/seed_0" in out and "partial   multigoal/sql/seed_1" in out
    assert main(["status", "multigoal", "--profile", "smoke", "--algos", "ddpg", "--out", str(tmp_path)]) == 0
    assert "2 missing" in capsys.readouterr().out


def test_runs_in_one_process_do_not_leak_hyperparameters(tmp_path):
    """SB3's DDPG writes n_critics into policy_kwargs; a SAC run after it in the same worker must not
    see it."""
    run(get_experiment("multigoal"), RunSpec("multigoal", "ddpg", 0, "smoke"), tmp_path)
    _, sac = get_experiment("multigoal").config.hyperparameters("sac")
    assert sac["policy_kwargs"] == {"net_arch": [128, 128]}
    run(get_experiment("multigoal"), RunSpec("multigoal", "sql", 0, "smoke"), tmp_path)


def test_a_run_being_run_elsewhere_is_refused(tmp_path):
    """Two processes never write one run folder (e.g. an orphaned pool worker and a new launcher)."""
    import fcntl

    folder = layout.run_dir(tmp_path, "multigoal", "softq/MultiGoal-v0", "sql", 0)
    folder.mkdir(parents=True)
    with open(folder / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(RunLockedError, match="being run by another process"):
            run(get_experiment("multigoal"), RunSpec("multigoal", "sql", 0, "smoke"), tmp_path)
    assert (
        run(get_experiment("multigoal"), RunSpec("multigoal", "sql", 0, "smoke"), tmp_path).status
        == "finished"
    )
