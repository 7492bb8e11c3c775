"""Run-level measures of the claims (experiments.analysis.measures) on inputs with known answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import claims as C
from experiments.analysis import aggregate, measures, synthetic

SWIM, MG = "softq/SwimmerFinishLine-v1", "softq/MultiGoal-v0"
AXIS = np.linspace(-1.0, 1.0, 31)
AX, AY = np.meshgrid(AXIS, AXIS, indexing="xy")


def bump(x: float, y: float, height: float = 3.0, width: float = 0.3) -> np.ndarray:
    return height * np.exp(-((AX - x) ** 2 + (AY - y) ** 2) / (2 * width**2))


def four_goals() -> np.ndarray:
    return sum(bump(x, y) for x, y in ((1, 0), (-1, 0), (0, 1), (0, -1)))


# ------------------------------------------------------------------------------------------------
# Swimmer


def test_late_window_is_the_last_fifth_at_least_one_epoch():
    assert measures.late_epochs(50) == slice(40, 50)
    assert measures.late_epochs(100) == slice(80, 100)
    assert measures.late_epochs(3) == slice(2, 3)
    assert measures.late_epochs(1) == slice(0, 1)


def test_swimmer_touch_once_then_back_is_crossed_but_not_forward():
    # the SQL seed: backward to -1.6 m early, touches 2.2 m at epoch 4, then back near 1 m
    high = np.array([0.5, 1.0, 1.4, 2.2, 1.2, 1.0, 0.9, 1.1, 0.8, 1.0])
    low = np.array([-0.3, -1.6, -0.5, -0.4, -0.3, -0.2, -0.2, -0.3, -0.2, -0.1])
    m = measures.swimmer_measures(low, high)
    assert m["late_crossing_fraction"] == 0.0  # last 2 epochs: 0.8, 1.0
    assert m["late_forward_x"] == pytest.approx(0.9)
    assert m["late_backward_x"] == pytest.approx(0.15)
    assert m["two_sided_reach"] == pytest.approx(1.6)  # epochs 1-4: forward 2.2, backward 1.6
    assert m["explored_both_directions"] == 1.0
    assert m["ended_backward"] == 0.0


def test_swimmer_forward_only_and_backward_settlers():
    line = C.SWIMMER_FINISH_LINE_X
    assert 0.4 < C.SWIMMER_EXPLORED_X < 3.0 and line < 3.0  # the cases below straddle both
    # forward from the start: never went the explored distance backward before crossing, stays beyond the line
    forward = measures.swimmer_measures(np.full(10, -0.3), np.array([0.3, line + 0.5] + [line + 1.0] * 8))
    assert forward["explored_both_directions"] == 0.0 and forward["two_sided_reach"] == pytest.approx(0.3)
    assert forward["late_crossing_fraction"] == 1.0 and forward["ended_backward"] == 0.0
    # settles backward: never crosses (two-sided reach over all epochs), ends 3 m behind the start
    backward = measures.swimmer_measures(-np.linspace(0.5, 3.0, 10), np.full(10, 0.4))
    assert backward["explored_both_directions"] == 0.0 and backward["two_sided_reach"] == pytest.approx(0.4)
    assert backward["ended_backward"] == 1.0 and backward["late_crossing_fraction"] == 0.0
    # half of the late epochs beyond the line is "stays forward" (the claim's threshold is inclusive)
    half = measures.swimmer_measures(np.full(10, -0.2), np.array([0.3] * 8 + [line + 0.1, line - 0.1]))
    assert half["late_crossing_fraction"] == 0.5 >= C.SWIMMER_STAYS_FORWARD
    # exactly at the line is not beyond it (the env's rule: x > FINISH_LINE_X)
    at_line = measures.swimmer_measures(np.full(5, -2.0), np.full(5, line))
    assert at_line["late_crossing_fraction"] == 0.0 and at_line["explored_both_directions"] == 0.0


# ------------------------------------------------------------------------------------------------
# Modes of Q


def test_count_modes_known_surfaces():
    assert measures.count_modes(bump(0.0, 0.0)) == 1
    assert measures.count_modes(bump(-0.5, 0.0) + bump(0.5, 0.0)) == 2
    assert measures.count_modes(four_goals()) == 4  # maxima on the edges of the grid count
    # a 0.2-high bump beside a 3-high one: a local maximum, not a mode (prominence < ln 2)
    ripple = bump(0.0, 0.0) + bump(0.8, 0.8, height=0.2, width=0.1)
    assert measures.count_modes(ripple, prominence=0.0) == 2
    assert measures.count_modes(ripple) == 1
    # the dip between two equal bumps decides: far apart they are two modes, close together one
    assert measures.count_modes(bump(-0.15, 0.0) + bump(0.15, 0.0)) == 1
    # flat (or nearly flat: range below ln 2) has no mode; a plateau is one
    assert measures.count_modes(np.zeros((31, 31))) == 0
    assert measures.count_modes(0.2 * bump(0.0, 0.0)) == 0  # 0.6 high
    plateau = np.minimum(bump(0.0, 0.0, width=0.5), 2.0)
    assert measures.count_modes(plateau) == 1
    with pytest.raises(ValueError):
        measures.count_modes(np.array([[0.0, np.nan]]))


def test_q_mode_measures_read_each_state():
    table = synthetic.q_grid_table([bump(-0.6, 0.0), four_goals(), bump(0.6, 0.0) + bump(0.0, 0.6)])
    got = measures.q_mode_measures(measures.q_prominences(table))
    assert {name: got[name] for name in C.Q_MODE_STATES} == {
        "q_modes_left": 1.0,
        "q_modes_origin": 4.0,
        "q_modes_diagonal": 2.0,
    }
    assert got["q_modes_left_runner_up"] == 0.0  # one maximum
    assert 0.0 < got["q_modes_diagonal_runner_up"] <= 3.0  # the second bump, 3 high
    incomplete = measures.q_mode_measures(measures.q_prominences(table[table["state"] != 2].iloc[:-1]))
    assert incomplete["q_modes_left"] == 1.0
    assert math.isnan(incomplete["q_modes_origin"]) and math.isnan(incomplete["q_modes_diagonal"])


# ------------------------------------------------------------------------------------------------
# Commits


def test_run_commits_launch_resumes_and_commit_lists():
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    assert measures.run_commits({"git": {"commit": a, "dirty": False}}) == ["a" * 10]
    manifest = {
        "git": {"commit": a, "dirty": False},
        "resumes": [
            {"at": "t", "from_epoch": 3, "git": {"commit": b, "dirty": True}},
            {"at": "t", "from_epoch": 5, "git": {"commit": a, "dirty": False}},
        ],
        "commits": [c, {"commit": b, "dirty": True}],
    }
    assert measures.run_commits(manifest) == ["a" * 10, "b" * 10 + "+dirty", "c" * 10]
    # the runner's own list repeats the launch commit as a bare id: one entry, dirty kept
    dirty_launch = {"git": {"commit": a, "dirty": True}, "resumes": [], "commits": [a, b]}
    assert measures.run_commits(dirty_launch) == ["a" * 10 + "+dirty", "b" * 10]
    assert measures.run_commits({}) == []
    assert measures.run_commits({"git": {"commit": None}, "resumes": None, "commits": None}) == []


def test_add_run_measures_on_run_folders(tmp_path: Path):
    high = np.array([0.5, 2.5, 3.0, 3.0, 3.0])
    low = np.array([-1.7, -0.5, -0.2, -0.2, -0.2])
    resumed = {"resumes": [{"at": "t", "from_epoch": 2, "git": {"commit": "f" * 40, "dirty": False}}]}
    synthetic.write_run(
        tmp_path, "swimmer", SWIM, "sql", 0, {"epoch_min_x": low, "epoch_max_x": high}, manifest_extra=resumed
    )
    mg = synthetic.write_run(tmp_path, "multigoal", MG, "sql", 0, {"goals_reached": [2, 4]})
    synthetic.write_artifact(mg, measures.Q_VALUES, synthetic.q_grid_table([bump(0, 0)] * 3))
    synthetic.write_run(tmp_path, "multigoal", MG, "ddpg", 0, {"goals_reached": [1, 1]})  # no artifacts
    noisy = synthetic.write_run(tmp_path, "multigoal", MG, "ddpg", 1, {"goals_reached": [1, 1]})
    ends = pd.DataFrame(  # two rollouts end at the goal (5, 0), one at (0, 5), one far from any
        {"rollout": [0, 1, 2, 3], "t": [29] * 4, "x": [5.0, 4.9, 0.0, 2.0], "y": [0.0, 0.1, 5.0, 2.0]}
    )
    synthetic.write_artifact(noisy, measures.ROLLOUTS_NOISE_ON, ends)
    df, problems = aggregate.load_runs(tmp_path)
    assert problems == []
    out = measures.add_run_measures(df, tmp_path)
    assert len(out) == len(df) and list(out.columns[: len(df.columns)]) == list(df.columns)
    swim = out[out["experiment"] == "swimmer"]
    assert (swim["late_crossing_fraction"] == 1.0).all() and (swim["explored_both_directions"] == 1.0).all()
    assert set(swim[measures.COMMITS]) == {"0123456789, ffffffffff"}
    sql = out[(out["experiment"] == "multigoal") & (out["algo"] == "sql")]
    assert (sql["q_modes_origin"] == 1.0).all() and sql["late_forward_x"].isna().all()
    ddpg = out[(out["experiment"] == "multigoal") & (out["algo"] == "ddpg")]
    assert ddpg["q_modes_origin"].isna().all() and (ddpg[measures.COMMITS] == "0123456789").all()
    assert ddpg.groupby("seed")["goals_reached_noise_on_origin"].first().fillna(-1).tolist() == [-1, 2]
    # the reduction "final" reads a run-level measure back
    vals = aggregate.run_values(out, "late_forward_x", "final").dropna(subset=["value"])
    assert vals["value"].tolist() == [3.0]
    empty = measures.add_run_measures(aggregate.load_runs(tmp_path / "none")[0], tmp_path / "none")
    assert measures.COMMITS in empty.columns and len(empty) == 0


def test_every_run_measure_is_computed():
    names = set(measures.swimmer_measures(np.zeros(3), np.zeros(3)))
    names |= set(measures.q_mode_measures(dict.fromkeys(C.Q_MODE_STATES)))
    names |= set(measures.fidelity_measures(None)) | {"goals_reached_origin", "goals_reached_noise_on_origin"}
    assert names == set(C.RUN_MEASURES) | set(C.ALTERNATIVE_MEASURES)
