"""Bad input gets exit code 2 and one line naming the argument or file, before any run starts and without
leaving a folder behind; unreadable run files are never counted as finished nor used; a folder without
runs is refused by plot, tables and verify."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from experiments import layout
from experiments.analysis import synthetic
from experiments.cli import main

SWIM = "softq/SwimmerFinishLine-v1"
MULTIGOAL = "softq/MultiGoal-v0"
SWIMMER_PRESETS = {"sql": "code", "ddpg": "paper", "sac": "sb3"}


@pytest.fixture
def no_launch(monkeypatch):
    """Fail the test if anything would start a run."""

    def refuse(*args, **kwargs):
        raise AssertionError("a run was started")

    monkeypatch.setattr("experiments.cli.launch", refuse)


def _one_error_line(capsys, *names: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: "), lines[0]
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def _swimmer_runs(root: Path, algos=("sql", "ddpg"), seeds=range(3), **manifest_kwargs) -> list[Path]:
    """Finished quick-profile swimmer runs (50 epochs x 1000 steps) with the columns the claims read."""
    folders = []
    for algo in algos:
        for seed in seeds:
            x = np.linspace(0.0, 1.0 + seed, 50)
            folders.append(
                synthetic.write_run(
                    root,
                    "swimmer",
                    SWIM,
                    algo,
                    seed,
                    {
                        "max_forward_x": x,
                        "epoch_min_x": -x / 2,
                        "epoch_max_x": x,
                        "crossed_finish_line": (x > 2).astype(float),
                        layout.EVAL_RETURN_DEPLOYED: x,
                        layout.EVAL_RETURN_EXPLORING: x,
                    },
                    profile="quick",
                    preset=SWIMMER_PRESETS[algo],
                    manifest_extra={"wall_time_s": 50.0},
                    **manifest_kwargs,
                )
            )
    return folders


def _finished_multigoal_smoke_run(root: Path) -> Path:
    """A finished smoke-profile multigoal SQL run, as the runner skips it."""
    return synthetic.write_run(
        root,
        "multigoal",
        MULTIGOAL,
        "sql",
        0,
        {"goals_reached": [1.0, 2.0, 3.0]},
        steps_per_epoch=100,
        profile="smoke",
        preset="code",
    )


# --- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize("seeds", ["-1", "a,b", "0,x"])
def test_bad_seeds_are_one_line_naming_seeds_and_leave_no_folder(tmp_path, capsys, no_launch, seeds):
    out = tmp_path / "results"
    assert main(["run", "multigoal", "--profile", "smoke", "--seeds", seeds, "--out", str(out)]) == 2
    _one_error_line(capsys, "--seeds")
    assert not out.exists()


def test_out_that_is_a_file_is_one_line_and_leaves_no_folder(tmp_path, capsys, no_launch):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    for out in (a_file, a_file / "below"):
        assert main(["run", "multigoal", "--profile", "smoke", "--out", str(out)]) == 2
        _one_error_line(capsys, "--out", str(a_file), "is a file")
    for command in ("plot", "tables", "verify", "status"):
        assert main([command, "--out", str(a_file)]) == 2
        _one_error_line(capsys, "--out", "is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_read_only_out_is_one_line_and_leaves_no_folder(tmp_path, capsys, no_launch, monkeypatch):
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    if (
        os.geteuid() == 0
    ):  # root writes into read-only folders; make the permission check see what a user sees
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda path, mode: False if Path(path) == read_only else real_access(path, mode)
        )
    try:
        assert main(["run", "multigoal", "--profile", "smoke", "--out", str(read_only / "results")]) == 2
        _one_error_line(capsys, "--out", "not writable")
        assert list(read_only.iterdir()) == []
    finally:
        read_only.chmod(0o755)


def test_argparse_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "multigoal", "--profile", "huge"])
    assert stop.value.code == 2
    _one_error_line(capsys, "--profile", "huge")


def test_top_level_help_has_no_rst_markup(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and "reproduce" in text and "--train" in text


# --- corrupt run folders ----------------------------------------------------------------------------


def _sql_seed_0(command: str, out) -> list[str]:
    """The CLI arguments that address the one smoke run of :func:`_finished_multigoal_smoke_run`."""
    return [command, "multigoal", "--profile", "smoke", "--algos", "sql", "--seeds", "0", "--out", str(out)]


def test_invalid_manifest_under_run_is_one_line_naming_the_file(tmp_path, capsys, no_launch):
    folder = _finished_multigoal_smoke_run(tmp_path)
    (folder / layout.MANIFEST).write_text("{not json")
    assert main(_sql_seed_0("run", tmp_path)) == 2
    _one_error_line(capsys, str(folder / layout.MANIFEST), "not a valid manifest")
    assert (folder / layout.MANIFEST).read_text() == "{not json"


def test_truncated_progress_is_corrupt_for_status_and_run(tmp_path, capsys, no_launch):
    folder = _finished_multigoal_smoke_run(tmp_path)
    progress = folder / layout.PROGRESS
    progress.write_bytes(progress.read_bytes()[:-7])  # cut mid-line
    before = progress.read_bytes()
    assert main(_sql_seed_0("status", tmp_path)) == 0
    out = capsys.readouterr().out
    assert "corrupt   multigoal/sql/seed_0" in out and "truncated" in out and "0 finished" in out
    assert main(_sql_seed_0("run", tmp_path)) == 2
    _one_error_line(capsys, str(folder), "truncated")
    assert progress.read_bytes() == before


def test_a_run_of_another_profile_is_one_line_and_left_alone(tmp_path, capsys, no_launch):
    folder = _finished_multigoal_smoke_run(tmp_path)
    before = (folder / layout.MANIFEST).read_bytes()
    args = _sql_seed_0("run", tmp_path)
    args[args.index("smoke")] = "quick"
    assert main(args) == 2
    _one_error_line(capsys, str(folder), "profile='smoke', not 'quick'")
    assert (folder / layout.MANIFEST).read_bytes() == before


@pytest.mark.parametrize("damage", ["cut mid-line", "a row missing", "manifest not JSON"])
def test_unreadable_runs_are_left_out_and_verify_refuses(tmp_path, capsys, damage):
    runs = _swimmer_runs(tmp_path)
    victim = runs[1]
    if damage == "cut mid-line":
        (victim / layout.PROGRESS).write_bytes((victim / layout.PROGRESS).read_bytes()[:-3])
    elif damage == "a row missing":
        lines = (victim / layout.PROGRESS).read_text().splitlines(keepends=True)
        (victim / layout.PROGRESS).write_text("".join(lines[:10] + lines[11:]))
    else:
        (victim / layout.MANIFEST).write_text('{"status": "finished", ')
    name = victim.relative_to(tmp_path).as_posix()
    assert main(["tables", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert f"left out: {name}" in err
    assert main(["verify", "--out", str(tmp_path)]) == 2
    line = _one_error_line(capsys, name, "none was written")
    assert "kept" not in line
    assert not (tmp_path / "SCORECARD.md").exists()


@pytest.mark.parametrize("command", ["plot", "tables", "verify"])
def test_a_folder_without_runs_is_refused(tmp_path, capsys, command):
    assert main([command, "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "no runs", str(tmp_path / "runs"))
    (tmp_path / "runs" / "swimmer").mkdir(parents=True)  # folders, but no run in them
    assert main([command, "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "no runs")
    assert not (tmp_path / "SCORECARD.md").exists() and not (tmp_path / "figures").exists()
    assert main([command, "--out", str(tmp_path / "nowhere")]) == 2
    _one_error_line(capsys, "does not exist")


def test_verify_warns_when_installed_versions_differ_from_the_runs(tmp_path, capsys):
    from experiments.provenance import package_versions

    installed = package_versions()
    _swimmer_runs(tmp_path)
    for manifest_path in (tmp_path / "runs").rglob(layout.MANIFEST):
        manifest = json.loads(manifest_path.read_text())
        manifest["versions"] = {**installed, "torch": "1.0.0", "mujoco": "2.0.0"}
        manifest_path.write_text(json.dumps(manifest))
    assert main(["verify", "--out", str(tmp_path)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert (
        "torch 1.0.0" in warnings[0]
        and installed["torch"] in warnings[0]
        and "requirements.lock" in warnings[0]
    )
    assert "mujoco 2.0.0" in warnings[1]
    assert (tmp_path / "SCORECARD.md").exists()
