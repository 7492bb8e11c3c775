"""Synthetic run folders with known statistics, for tests and for trying the analysis without training.

Nothing written here is a result: never point these at results/.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import layout


def manifest(
    experiment: str,
    env: str,
    algo: str,
    seed: int,
    *,
    total_steps: int,
    n_epochs: int,
    profile: str = "smoke",
    preset: str | None = "paper",
    status: str = layout.FINISHED,
    commit: str = "0123456789abcdef0123456789abcdef01234567",
    dirty: bool = False,
) -> dict:
    return {
        "experiment": experiment,
        "algo": algo,
        "env": env,
        "seed": seed,
        "profile": profile,
        "preset": preset,
        "status": status,
        "budget": {
            "total_steps": total_steps,
            "steps_per_epoch": total_steps // n_epochs,
            "n_epochs": n_epochs,
        },
        "git": {"commit": commit, "dirty": dirty},
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": None if status != layout.FINISHED else "2026-01-01T01:00:00Z",
    }


def write_run(
    root: str | Path,
    experiment: str,
    env: str,
    algo: str,
    seed: int,
    metrics: Mapping[str, np.ndarray],
    *,
    steps_per_epoch: int = 1000,
    manifest_extra: Mapping[str, object] | None = None,
    **manifest_kwargs,
) -> Path:
    """Write ``progress.csv`` (epoch, step, wall_time, then ``metrics``; one row per epoch) and
    ``manifest.json`` (plus the keys of ``manifest_extra``, e.g. ``resumes``) into the layout's run folder;
    returns the folder."""
    n = len(next(iter(metrics.values())))
    epochs = np.arange(1, n + 1)
    table = pd.DataFrame(
        {layout.EPOCH: epochs, layout.STEP: epochs * steps_per_epoch, layout.WALL_TIME: epochs * 1.5}
    )
    for k, v in metrics.items():
        table[k] = np.asarray(v, dtype=float)
    path = layout.run_dir(root, experiment, env, algo, seed)
    path.mkdir(parents=True, exist_ok=True)
    table.to_csv(path / layout.PROGRESS, index=False, lineterminator="\n")
    m = manifest(experiment, env, algo, seed, total_steps=n * steps_per_epoch, n_epochs=n, **manifest_kwargs)
    m.update(manifest_extra or {})
    (path / layout.MANIFEST).write_text(json.dumps(m, indent=2) + "\n")
    return path


def write_artifact(run: Path, name: str, table: pd.DataFrame) -> Path:
    """Write ``table`` as ``<run>/artifacts/<name>`` (CSV, as the runner's artifacts); returns the path."""
    path = run / layout.ARTIFACTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def q_grid_table(surfaces: list[np.ndarray]) -> pd.DataFrame:
    """A q_values.csv table (state, action_x, action_y, q) from one square grid of Q per state, over
    [-1, 1]^2 with rows = action_y and columns = action_x, as experiments.tasks.multigoal writes it."""
    frames = []
    for state, q in enumerate(surfaces):
        axis = np.linspace(-1.0, 1.0, q.shape[0])
        ax, ay = np.meshgrid(axis, axis, indexing="xy")
        frames.append(
            pd.DataFrame({"state": state, "action_x": ax.ravel(), "action_y": ay.ravel(), "q": q.ravel()})
        )
    return pd.concat(frames, ignore_index=True)


def curve(final: float, n_epochs: int, rng: np.random.Generator, noise: float = 0.0) -> np.ndarray:
    """A rising curve from 0 that ends exactly at ``final`` (noise on the earlier epochs only)."""
    c = final * np.linspace(0.0, 1.0, n_epochs) + rng.normal(0.0, noise, n_epochs)
    c[-1] = final
    return c
