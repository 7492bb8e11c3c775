"""The one-command pipeline: ``reproduce --profile smoke --train`` from scratch; ``reproduce`` without
``--train``, which reports what is missing and regenerates every profile's outputs from finished runs; the
committed results/ regenerated unchanged by ``plot``, ``tables`` and ``verify`` from the committed runs;
``status`` showing every committed run; the lock file pinning what the committed runs recorded."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from experiments import layout
from experiments.analysis import synthetic
from experiments.claims import CLAIMS
from experiments.cli import main
from experiments.config import PROFILES
from experiments.provenance import LOCK_FILE, NUMERIC_PACKAGES
from experiments.registry import EXPERIMENTS

REPO = Path(__file__).resolve().parent.parent
GENERATED = ("figures", "tables", "SCORECARD.md")


@pytest.mark.slow
def test_reproduce_smoke_runs_every_experiment_and_writes_everything(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["reproduce", "--profile", "smoke", "--out", str(out), "--workers", "2", "--train"]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "scorecard:" in printed
    assert "are not finished" in printed and "core-hours" in printed  # said up front
    assert "env steps: 100%" in captured.err  # the progress bar counts environment steps
    for name, experiment in EXPERIMENTS.items():
        for algo in experiment.algos:
            for seed in experiment.config.budget("smoke").seeds:
                for env in experiment.config.envs:
                    manifest = layout.run_dir(out, name, env, algo, seed) / layout.MANIFEST
                    assert '"status": "finished"' in manifest.read_text(), manifest
        assert (out / "tables" / f"{name}_summary.md").exists()
        for spec in experiment.figure_specs:
            assert (out / "figures" / f"{spec.name}.png").exists(), spec.name
            assert not (out / "figures" / f"{spec.name}.pdf").exists(), spec.name  # PNG unless asked
    scorecard = (out / "SCORECARD.md").read_text()
    for claim in CLAIMS:
        assert claim.id in scorecard
    assert main(["plot", "--out", str(out), "--format", "pdf"]) == 0  # PDF on request
    for experiment in EXPERIMENTS.values():
        for spec in experiment.figure_specs:
            assert (out / "figures" / f"{spec.name}.pdf").exists(), spec.name


def _tracked(path: str) -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", path], cwd=REPO, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return listed.stdout.split()


def test_committed_results_are_regenerated_unchanged(tmp_path):
    """plot, tables and verify on the committed runs of every profile (results/runs/ and
    results/<profile>/runs/) reproduce that profile's committed outputs byte for byte."""
    tracked = _tracked("results")
    runs = [name for name in tracked if layout.RUNS in name.split("/")[1:3]]
    if not runs:
        pytest.skip("no committed runs")
    for name in runs:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    copy = tmp_path / "results"
    for root in layout.profile_roots(copy, PROFILES):
        for command in ("plot", "tables", "verify"):
            assert main([command, "--out", str(root)]) == 0
    committed = sorted(n for n in tracked if _is_generated(n))
    regenerated = sorted(
        str(p.relative_to(tmp_path))
        for p in copy.rglob("*")
        if p.is_file() and _is_generated(str(p.relative_to(tmp_path)))
    )
    assert regenerated == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (REPO / name).read_bytes(), name


def _is_generated(name: str) -> bool:
    """An output of plot, tables or verify: results/<output> or results/<profile>/<output>."""
    parts = name.split("/")[1:]
    return parts[0] in GENERATED or (len(parts) > 1 and parts[0] in PROFILES and parts[1] in GENERATED)


def _swimmer_run(root: Path, algo: str, seed: int, profile: str) -> Path:
    """A finished swimmer run of 50 epochs x 1000 steps that took 50 s (1 ms per step)."""
    x = np.linspace(0.0, 1.0 + seed, 50)
    preset = {"sql": "code_clip", "ddpg": "paper", "sac": "sb3"}[algo]
    return synthetic.write_run(
        root,
        "swimmer",
        "softq/SwimmerFinishLine-v1",
        algo,
        seed,
        {
            "max_forward_x": x,
            "epoch_min_x": -x / 2,
            "epoch_max_x": x,
            "crossed_finish_line": (x > 2).astype(float),
        },
        profile=profile,
        preset=preset,
        manifest_extra={"wall_time_s": 50.0},
    )


def test_reproduce_without_train_reports_missing_runs_and_regenerates_every_profile(
    tmp_path, capsys, monkeypatch
):
    def refuse(*args, **kwargs):
        raise AssertionError("reproduce trained without --train")

    monkeypatch.setattr("experiments.cli.launch", refuse)
    root = tmp_path / "results"
    for seed in range(3):
        _swimmer_run(root, "sql", seed, "quick")
        _swimmer_run(root / "standard", "ddpg", seed, "standard")
    before = sorted(p for p in (root / "runs").rglob("*"))
    (root / "tables").mkdir()
    stale = [root / "tables" / f"finetune_iqm.{ext}" for ext in ("md", "csv")]  # no finetune runs here
    for path in stale:
        path.write_text("old")
    assert main(["reproduce", "swimmer", "--profile", "quick", "--out", str(root)]) == 0
    printed = capsys.readouterr().out
    assert f"12 of the 15 quick runs under {root} are not finished (12 missing):" in printed
    for missing in ("swimmer/sql/seed_3", "swimmer/sql/seed_4", "swimmer/ddpg/seed_0", "swimmer/sac/seed_4"):
        assert re.search(rf"missing +{missing} ", printed), missing
    assert "1.0 ms/step, median of 3 finished run(s)" in printed
    assert "estimated 0.03 core-hours" in printed  # 2 sql runs x 50,000 steps x 1 ms
    assert "10 run(s) without a measured cost" in printed  # no finished ddpg or sac run to measure
    assert "add --train" in printed
    assert sorted(p for p in (root / "runs").rglob("*")) == before  # nothing trained, nothing touched
    for profile_root in (root, root / "standard"):
        assert (profile_root / "SCORECARD.md").exists() and any((profile_root / "figures").iterdir())
        assert f"scorecard: {profile_root / 'SCORECARD.md'}" in printed
    assert not any(path.exists() for path in stale) and f"removed {stale[0]}: no longer generated" in printed
    assert (root / "tables" / "swimmer_summary.md").exists()
    figure = next((root / "figures").glob("*.png"))
    figure.with_suffix(".pdf").write_text("a format asked for")  # plot --format pdf
    assert main(["reproduce", "swimmer", "--profile", "quick", "--out", str(root)]) == 0
    assert figure.with_suffix(".pdf").exists() and "no longer generated" not in capsys.readouterr().out


def _tracked_runs() -> list[str]:
    tracked = _tracked("results")
    return sorted({"/".join(name.split("/")[2:6]) for name in tracked if name.startswith("results/runs/")})


def test_status_shows_every_committed_run_once(tmp_path, capsys):
    """Runs outside the profile's seed lists (and composition's evaluation runs) are listed as extra."""
    tracked = _tracked("results")
    runs = _tracked_runs()
    if not runs:
        pytest.skip("no committed runs")
    for name in tracked:
        if name.startswith("results/runs/"):
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target)
    assert main(["status", "--profile", "quick", "--out", str(tmp_path / "results")]) == 0
    lines = capsys.readouterr().out.splitlines()
    shown = [line.split()[1] for line in lines if line.startswith("finished ")]
    assert not [line for line in lines if line.startswith(("corrupt", "conflict"))]

    def described(run: str) -> str:  # experiment/env/algo/seed_k -> as status names it
        experiment, env, algo, seed = run.split("/")
        return run if len(EXPERIMENTS[experiment].config.envs) > 1 else f"{experiment}/{algo}/{seed}"

    assert sorted(shown) == sorted(described(run) for run in runs)


def test_lock_file_pins_the_versions_the_committed_runs_recorded():
    lock = (REPO / LOCK_FILE).read_text().splitlines()
    pins = dict(line.split("==", 1) for line in lock if line and not line.startswith("#"))
    pins = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}
    requirements = [line for line in lock if line and not line.startswith("#")]
    assert requirements[0].startswith("torch=="), "torch first: the CPU build, before anything pulls another"
    recorded = set()
    for name in _tracked("results"):
        if name.endswith(layout.MANIFEST):
            versions = json.loads((REPO / name).read_text()).get("versions") or {}
            recorded |= {(package, versions[package]) for package in NUMERIC_PACKAGES if package in versions}
    for package, version in recorded:
        assert pins[package] == version, (package, version, pins[package])


def test_without_measured_runs_the_estimate_shares_the_task_files_core_hours(tmp_path, capsys, monkeypatch):
    """A profile's ``core_hours`` (its measured cost as a whole) is shared over its runs by their steps."""
    import dataclasses

    task = tmp_path / "costed.yaml"
    text = (REPO / "experiments" / "hyperparams" / "multigoal.yaml").read_text()
    text = text.replace(
        "smoke: {steps_per_epoch: 100, n_epochs: 3, seeds: [0, 1]}",
        "smoke: {steps_per_epoch: 100, n_epochs: 3, seeds: [0, 1], core_hours: 1.5}",
    )
    task.write_text(text)
    monkeypatch.setitem(
        EXPERIMENTS, "costed", dataclasses.replace(EXPERIMENTS["multigoal"], name="costed", task=str(task))
    )
    assert main(["status", "costed", "--profile", "smoke", "--out", str(tmp_path / "results")]) == 0
    printed = capsys.readouterr().out
    assert "6 missing" in printed  # sql, ddpg, sac x seeds 0, 1
    assert "estimated 1.50 core-hours" in printed
    assert (
        main(["status", "costed", "--profile", "smoke", "--algos", "sql", "--out", str(tmp_path / "results")])
        == 0
    )
    assert "estimated 0.50 core-hours" in capsys.readouterr().out
