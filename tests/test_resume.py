"""Exact resume: a run killed after an epoch (with rows written past its last checkpoint and a row cut
mid-line) and run again writes the progress.csv rows and artifacts of an uninterrupted run of the same seed.

The killed run runs in a child process that SIGKILLs itself, so that nothing but the run folder survives
it; the resume runs here, as the uninterrupted run does."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments import layout
from experiments.registry import EXPERIMENTS, Experiment
from experiments.runner import RunSpec, run

REPO = Path(__file__).resolve().parent.parent
ENVS = {
    "multigoal": "softq/MultiGoal-v0",
    "swimmer": "softq/SwimmerFinishLine-v1",
    "lunarlander": "LunarLanderContinuous-v3",  # Box2D: its env pickles by replay (experiments.training_env)
}
# (steps per epoch, epochs) of the test's smoke profile: past SB3's warm-up (learning_starts 100) before
# the checkpoint, so the restored state includes updated networks, optimisers and a part-filled buffer.
BUDGETS = {"multigoal": (100, 4), "swimmer": (200, 4), "lunarlander": (200, 4)}
CHECKPOINTED_EPOCH = 2  # the killed run's last checkpoint; it wrote rows up to KILLED_AFTER_EPOCH
KILLED_AFTER_EPOCH = 3

KILLED_RUN = """
import dataclasses, os, signal, sys
from experiments import runner
from experiments.registry import EXPERIMENTS
experiment = dataclasses.replace(EXPERIMENTS[{base!r}], name={name!r}, task={task!r})
save = runner.save_checkpoint
def save_until(folder, model, epoch, *rest):
    if epoch <= {checkpointed}:  # later checkpoints are lost, as if the kill came before they were written
        save(folder, model, epoch, *rest)
runner.save_checkpoint = save_until
epochs = []
def kill_after(steps):
    epochs.append(steps)
    if len(epochs) == {killed}:
        os.kill(os.getpid(), signal.SIGKILL)
runner.run(experiment, runner.RunSpec({name!r}, {algo!r}, 0, "smoke"), {root!r}, \
checkpoint_every_s=0, on_epoch=kill_after)
"""


def _experiment(tmp_path: Path, base: str) -> tuple[Experiment, Path]:
    """A copy of experiment ``base`` named ``resume_<base>`` whose smoke profile is BUDGETS[base]."""
    steps, epochs = BUDGETS[base]
    text = (REPO / "experiments" / "hyperparams" / f"{base}.yaml").read_text()
    text, n = re.subn(
        r"^  smoke: \{steps_per_epoch: \d+, n_epochs: \d+,",
        f"  smoke: {{steps_per_epoch: {steps}, n_epochs: {epochs},",
        text,
        flags=re.MULTILINE,
    )
    assert n == 1
    task = tmp_path / f"{base}.yaml"
    task.write_text(text)
    return dataclasses.replace(EXPERIMENTS[base], name=f"resume_{base}", task=str(task)), task


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted((folder / layout.ARTIFACTS).rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("base", "algo"),
    [
        ("multigoal", "sql"),
        ("multigoal", "ddpg"),
        ("multigoal", "sac"),
        ("swimmer", "ddpg"),
        ("lunarlander", "sql_scale3"),
    ],
)
def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path, base, algo):
    experiment, task = _experiment(tmp_path, base)
    name = experiment.name
    spec = RunSpec(name, algo, 0, "smoke")
    uninterrupted = run(experiment, spec, tmp_path / "a", checkpoint_every_s=0).folder

    killed_root = tmp_path / "b"
    script = KILLED_RUN.format(
        name=name,
        base=base,
        task=str(task),
        algo=algo,
        root=str(killed_root),
        checkpointed=CHECKPOINTED_EPOCH,
        killed=KILLED_AFTER_EPOCH,
    )
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert child.returncode == -9, child.stderr[-2000:]
    folder = layout.run_dir(killed_root, name, ENVS[base], algo, 0)
    progress = folder / layout.PROGRESS
    assert len(progress.read_text().splitlines()) == 1 + KILLED_AFTER_EPOCH
    with open(progress, "a") as f:
        f.write(f"{KILLED_AFTER_EPOCH + 1},{BUDGETS[base][0] * 4}")  # a row cut mid-line by the kill

    outcome = run(experiment, spec, killed_root, checkpoint_every_s=0)
    assert outcome.status == "resumed"
    first = pd.read_csv(uninterrupted / layout.PROGRESS, dtype=str).drop(columns=layout.WALL_TIME)
    second = pd.read_csv(folder / layout.PROGRESS, dtype=str).drop(columns=layout.WALL_TIME)
    pd.testing.assert_frame_equal(first, second)  # every cell as written, not within a tolerance
    assert len(second) == BUDGETS[base][1]
    assert _files(uninterrupted) == _files(folder)
    manifest = json.loads((folder / layout.MANIFEST).read_text())
    assert [r["from_epoch"] for r in manifest["resumes"]] == [CHECKPOINTED_EPOCH]
    started_at, resumed_at = manifest["git"]["commit"], manifest["resumes"][0]["git"]["commit"]
    assert manifest["commits"] == list(dict.fromkeys(c for c in (started_at, resumed_at) if c))
