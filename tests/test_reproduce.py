"""The one-command pipeline: ``reproduce --profile smoke`` from scratch, and the committed results/
regenerated unchanged by ``plot``, ``tables`` and ``verify`` from the committed runs."""

import shutil
import subprocess
from pathlib import Path

import pytest

from experiments import layout
from experiments.claims import CLAIMS
from experiments.cli import main
from experiments.registry import EXPERIMENTS

REPO = Path(__file__).resolve().parent.parent
GENERATED = ("figures", "tables", "SCORECARD.md")


@pytest.mark.slow
def test_reproduce_smoke_runs_every_experiment_and_writes_everything(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["reproduce", "--profile", "smoke", "--out", str(out), "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "scorecard:" in printed
    for name, experiment in EXPERIMENTS.items():
        for algo in experiment.algos:
            for seed in experiment.config.budget("smoke").seeds:
                for env in experiment.config.envs:
                    manifest = layout.run_dir(out, name, env, algo, seed) / layout.MANIFEST
                    assert '"status": "finished"' in manifest.read_text(), manifest
        assert (out / "tables" / f"{name}_summary.md").exists()
        for spec in experiment.figure_specs:
            assert (out / "figures" / f"{spec.name}.png").exists(), spec.name
            assert (out / "figures" / f"{spec.name}.pdf").exists(), spec.name
    scorecard = (out / "SCORECARD.md").read_text()
    for claim in CLAIMS:
        assert claim.id in scorecard


def _tracked(path: str) -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", path], cwd=REPO, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return listed.stdout.split()


def test_committed_results_are_regenerated_unchanged(tmp_path):
    """plot, tables and verify on the committed runs reproduce the committed outputs byte for byte."""
    tracked = _tracked("results")
    if not any(f.startswith("results/runs/") for f in tracked):
        pytest.skip("no committed runs")
    copy = tmp_path / "results"
    for name in tracked:
        if name.startswith("results/runs/"):
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target)
    for command in ("plot", "tables", "verify"):
        assert main([command, "--out", str(copy)]) == 0
    committed = sorted(n for n in tracked if n.split("/")[1] in GENERATED)
    regenerated = sorted(
        str(p.relative_to(tmp_path)) for p in copy.rglob("*") if p.is_file() and p.relative_to(copy).parts[0] in GENERATED
    )
    assert regenerated == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (REPO / name).read_bytes(), name
