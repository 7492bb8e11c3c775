"""The analysis layer on synthetic run folders with known statistics (no torch, SB3 or softq needed)."""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from experiments import layout
from experiments.analysis import (
    SCORECARD,
    aggregate,
    ledger,
    make_budget_trajectory_figures,
    make_generic_figures,
    make_scorecard,
    make_tables,
    plots,
    stats,
    synthetic,
    tables,
)

SWIM = "softq/SwimmerFinishLine-v1"
REPS = 300


def _ledger(tmp_path: Path) -> Path:
    path = tmp_path / "deviations.yaml"
    path.write_text(
        "deviations:\n"
        "  - id: swim-finish-line\n"
        "    applies_to: [swimmer]\n"
        "    paper: finish line position not given\n"
        "    ours: finish line at x = 5\n"
        "    why: the paper leaves it open\n"
        "  - id: budget-smoke\n"
        "    applies_to: all\n"
        "    paper: 500 epochs\n"
        "    ours: 5 epochs\n"
        "    why: CI time\n"
        "  - id: maze-only\n"
        "    applies_to: [antmaze]\n"
        "    paper: geometry unknown\n"
        "    ours: our maze\n"
        "    why: needed a maze\n"
    )
    return path


def _swimmer_runs(root: Path, finals: dict[str, list[float]], n_epochs: int = 5) -> None:
    """Per algo one run per final value; metric `score` rises linearly to the final value."""
    for algo, values in finals.items():
        for seed, final in enumerate(values):
            score = np.linspace(0.0, final, n_epochs)
            synthetic.write_run(
                root,
                "swimmer",
                SWIM,
                algo,
                seed,
                {
                    layout.EVAL_RETURN_DEPLOYED: score,
                    layout.EVAL_RETURN_EXPLORING: score - 1.0,
                    "score": score,
                    "epoch_min_x": -np.arange(n_epochs, dtype=float),
                    "epoch_max_x": np.arange(n_epochs, dtype=float) * final,
                    "crossed_finish_line": (score >= 3.0).astype(float),
                },
            )


@pytest.fixture
def swim_root(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    _swimmer_runs(root, {"sql": [1.0, 2.0, 3.0, 4.0, 5.0], "ddpg": [0.0, 0.0, 1.0, 1.0]})
    return root


# ------------------------------------------------------------------------------------------------
# Loading


def test_load_runs_tidy_table(swim_root: Path):
    df, problems = aggregate.load_runs(swim_root)
    assert problems == []
    assert list(df.columns[: len(aggregate.ID_COLUMNS)]) == list(aggregate.ID_COLUMNS)
    for col in (layout.EPOCH, layout.STEP, layout.WALL_TIME, "score", "crossed_finish_line"):
        assert col in df.columns
    assert len(df) == 9 * 5
    assert set(df["algo"]) == {"sql", "ddpg"}
    assert df["env"].unique().tolist() == [SWIM]
    assert df["seed"].dtype.kind == "i"
    assert (df["profile"] == "smoke").all() and (df["preset"] == "paper").all()
    assert (df["budget_steps"] == 5000).all()
    assert df["commit"].str.len().eq(40).all()


def test_means_and_stds_exact(swim_root: Path):
    df, _ = aggregate.load_runs(swim_root)
    t = tables.summary_table(df, "score", "final", reps=REPS).set_index("algo")
    assert t.loc["sql", "mean"] == pytest.approx(3.0, abs=1e-12)
    assert t.loc["sql", "std"] == pytest.approx(math.sqrt(2.5), abs=1e-12)
    assert t.loc["sql", "n"] == 5 and t.loc["sql", "seeds"] == "0-4"
    assert t.loc["ddpg", "mean"] == pytest.approx(0.5, abs=1e-12)
    assert t.loc["ddpg", "std"] == pytest.approx(np.std([0, 0, 1, 1], ddof=1), abs=1e-12)
    assert t.loc["sql", "ci_low"] <= 3.0 <= t.loc["sql", "ci_high"]
    assert t.loc["sql", "budget_steps"] == "5,000"
    # max over training equals the final value for rising curves; min is the start (0)
    tmax = tables.summary_table(df, "score", "max", reps=REPS).set_index("algo")
    assert tmax.loc["sql", "mean"] == pytest.approx(3.0)
    tmin = tables.summary_table(df, "score", "min", reps=REPS).set_index("algo")
    assert tmin.loc["sql", "mean"] == pytest.approx(0.0)


def test_auc_reduction_is_time_average_over_first_fraction():
    steps = np.array([1000.0, 2000.0, 3000.0, 4000.0])
    values = steps / 1000.0  # 1, 2, 3, 4
    red = aggregate.Reduction.parse("auc:0.5")
    # first half of a 4000-step budget: steps 1000..2000, linear 1..2 -> average 1.5
    assert red.apply(steps, values, 4000.0) == pytest.approx(1.5)
    assert aggregate.Reduction.parse("auc").apply(steps, values, 4000.0) == pytest.approx(2.5)
    assert aggregate.Reduction.parse("final").apply(steps, values, 4000.0) == 4.0
    for bad in ("median", "auc:0", "auc:1.5", "max:0.5"):
        with pytest.raises(ValueError):
            aggregate.Reduction.parse(bad)


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_bad_runs_reported_skipped_and_untouched(swim_root: Path, tmp_path: Path):
    # a partial run, a corrupt progress.csv, a missing manifest, an unparseable manifest, a mismatched seed
    running = synthetic.write_run(
        swim_root, "swimmer", SWIM, "sac", 0, {"score": [1.0, 2.0]}, status="running"
    )
    corrupt = synthetic.write_run(swim_root, "swimmer", SWIM, "sac", 1, {"score": [1.0, 2.0]})
    (corrupt / layout.PROGRESS).write_bytes(b"\x89garbage\x00\xff\xfe,,,\n1,2\n")
    text_garbage = synthetic.write_run(swim_root, "swimmer", SWIM, "sac", 2, {"score": [1.0, 2.0]})
    (text_garbage / layout.PROGRESS).write_text("this is not,a progress file\nhello,world\n")
    no_manifest = synthetic.write_run(swim_root, "swimmer", SWIM, "sac", 3, {"score": [1.0, 2.0]})
    (no_manifest / layout.MANIFEST).unlink()
    bad_json = synthetic.write_run(swim_root, "swimmer", SWIM, "sac", 4, {"score": [1.0, 2.0]})
    (bad_json / layout.MANIFEST).write_text("{not json")
    wrong_seed = synthetic.write_run(swim_root, "swimmer", SWIM, "sac", 5, {"score": [1.0, 2.0]})
    m = json.loads((wrong_seed / layout.MANIFEST).read_text())
    m["seed"] = 7
    (wrong_seed / layout.MANIFEST).write_text(json.dumps(m))
    failed = synthetic.write_run(swim_root, "swimmer", SWIM, "sac", 6, {"score": [1.0, 2.0]}, status="failed")
    before = _snapshot(swim_root)

    df, problems = aggregate.load_runs(swim_root)
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {running, corrupt, text_garbage, no_manifest, bad_json, wrong_seed, failed}
    assert all(p.skipped for p in problems)
    assert "running" in by_path[running].reason
    assert "NUL" in by_path[corrupt].reason or "parsed" in by_path[corrupt].reason
    assert "lacks column" in by_path[text_garbage].reason
    assert "missing" in by_path[no_manifest].reason
    assert "JSON" in by_path[bad_json].reason
    assert "seed" in by_path[wrong_seed].reason
    assert "failed" in by_path[failed].reason
    assert "swimmer/softq-SwimmerFinishLine-v1/sac/seed_0" in by_path[running].describe(swim_root)
    assert "sac" not in set(df["algo"])

    partial, problems2 = aggregate.load_runs(swim_root, include_partial=True)
    assert ("sac", 0) in set(zip(partial["algo"], partial["seed"], strict=True))
    assert running not in {p.path for p in problems2}
    assert set(partial.loc[partial["algo"] == "sac", "status"]) == {"running"}

    out = tmp_path / "out"
    make_tables(swim_root, out, reps=50)
    make_generic_figures(swim_root, out, reps=50)
    make_budget_trajectory_figures(swim_root, out, reps=50)
    make_scorecard(swim_root, out / SCORECARD, reps=50)
    assert _snapshot(swim_root) == before


def test_short_finished_run_is_kept_with_warning(tmp_path: Path):
    run = synthetic.write_run(tmp_path, "swimmer", SWIM, "sql", 0, {"score": [1.0, 2.0, 3.0]})
    m = json.loads((run / layout.MANIFEST).read_text())
    m["budget"]["total_steps"] = 10_000
    (run / layout.MANIFEST).write_text(json.dumps(m))
    df, problems = aggregate.load_runs(tmp_path)
    assert len(df) == 3
    assert len(problems) == 1 and not problems[0].skipped and "budget" in problems[0].reason


def test_empty_root(tmp_path: Path):
    df, problems = aggregate.load_runs(tmp_path)
    assert len(df) == 0 and problems == []
    paths, _ = make_tables(tmp_path, tmp_path / "out")
    assert paths == []


def test_describe_helpers():
    assert aggregate.describe_seeds([4, 0, 1, 2, 7, 8]) == "0-2,4,7-8"
    assert aggregate.describe_commits(["abcdef1234567", "abcdef1234567"], [False, True]) == (
        "abcdef1234, abcdef1234+dirty"
    )
    assert aggregate.describe_budget([1000.0, 1000.0, math.nan]) == "1,000"


# ------------------------------------------------------------------------------------------------
# Statistics


def test_mean_std_and_degenerate_bootstrap():
    assert stats.mean_std([1.0, 2.0, 3.0, math.nan]) == (2.0, 1.0, 3)
    m, s, n = stats.mean_std([4.0])
    assert (m, n) == (4.0, 1) and math.isnan(s)
    one = stats.bootstrap_ci([4.0])
    assert (one.low, one.high) == (4.0, 4.0)
    assert math.isnan(stats.bootstrap_ci([]).point)


def test_bootstrap_is_seeded():
    x = np.random.default_rng(1).normal(size=10)
    assert stats.bootstrap_ci(x, reps=500, seed=3) == stats.bootstrap_ci(x, reps=500, seed=3)
    assert stats.bootstrap_ci(x, reps=500, seed=3) != stats.bootstrap_ci(x, reps=500, seed=4)


def test_bootstrap_coverage_near_nominal():
    rng = np.random.default_rng(12345)
    true_mean = 2.0
    hits = 0
    n_exp = 200
    for i in range(n_exp):
        x = rng.normal(true_mean, 3.0, size=10)
        ci = stats.bootstrap_ci(x, reps=1000, confidence=0.95, seed=i)
        hits += ci.low <= true_mean <= ci.high
    coverage = hits / n_exp
    # the percentile bootstrap under-covers a little at n = 10 (about 0.91-0.93)
    assert 0.88 <= coverage <= 0.99, coverage


def test_bootstrap_detects_wrong_mean():
    # sanity: an interval from clearly shifted data excludes the true mean (the coverage test can fail)
    x = np.random.default_rng(0).normal(5.0, 1.0, size=10)
    ci = stats.bootstrap_ci(x, reps=1000)
    assert not ci.contains(0.0)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (8, 10, 0.490162, 0.943318),
        (0, 10, 0.0, 0.277533),
        (10, 10, 0.722467, 1.0),
        (5, 10, 0.236593, 0.763407),
        (1, 3, 0.061492, 0.792340),
        (17, 20, 0.639581, 0.947631),
    ],
)
def test_wilson_known_values(k, n, low, high):
    ci = stats.wilson_interval(k, n, 0.95)
    assert ci.point == pytest.approx(k / n)
    assert ci.low == pytest.approx(low, abs=1e-6)
    assert ci.high == pytest.approx(high, abs=1e-6)


def test_wilson_edges():
    assert stats.wilson_interval(10, 10).high == 1.0
    assert stats.wilson_interval(0, 10).low == 0.0
    assert stats.wilson_interval(10, 10).contains(1.0)
    assert math.isnan(stats.wilson_interval(0, 0).point)
    with pytest.raises(ValueError):
        stats.wilson_interval(11, 10)
    # a wider confidence gives a wider interval
    assert stats.wilson_interval(8, 10, 0.99).width > stats.wilson_interval(8, 10, 0.95).width


def test_probability_of_improvement_is_mann_whitney():
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(1.0, 1.0, 8), 1)
    y = np.round(rng.normal(0.0, 1.0, 6), 1)
    u = sps.mannwhitneyu(x, y, alternative="two-sided").statistic
    assert stats.probability_of_improvement(x, y) == pytest.approx(u / (len(x) * len(y)))
    assert stats.probability_of_improvement([2, 3], [0, 1]) == 1.0
    assert stats.probability_of_improvement([1, 1], [1, 1]) == 0.5
    ci = stats.probability_of_improvement_ci(x, y, reps=REPS)
    assert ci.low <= ci.point <= ci.high
    assert stats.probability_of_improvement_ci([2, 3, 4], [0, 1, 1.5], reps=REPS) == stats.Interval(
        1.0, 1.0, 1.0
    )


def _brute_force_u_pvalues(x, y) -> tuple[float, float]:
    """P(U >= observed), P(U <= observed) over every split of the pooled values (ties one half)."""
    pooled = np.concatenate([x, y])

    def u(idx):
        a = pooled[list(idx)]
        b = np.delete(pooled, list(idx))
        return float(np.sum((a[:, None] > b[None, :]) + 0.5 * (a[:, None] == b[None, :])))

    observed = u(range(len(x)))
    us = np.array([u(c) for c in itertools.combinations(range(len(pooled)), len(x))])
    return float(np.mean(us >= observed - 1e-9)), float(np.mean(us <= observed + 1e-9))


def test_mann_whitney_exact_counts_every_split_with_ties():
    rng = np.random.default_rng(3)
    for _ in range(4):
        x = rng.integers(0, 4, size=5).astype(float)  # many ties
        y = rng.integers(0, 4, size=6).astype(float)
        got = stats.mann_whitney_exact(x, y)
        want = _brute_force_u_pvalues(x, y)
        assert (got.greater, got.less) == pytest.approx(want, abs=1e-12)
    x, y = rng.normal(size=6), rng.normal(size=7)
    exact = sps.mannwhitneyu(x, y, alternative="greater", method="exact").pvalue
    assert stats.mann_whitney_exact(x, y).greater == pytest.approx(exact, abs=1e-12)
    assert stats.mann_whitney_exact(range(5, 10), range(5)).greater == pytest.approx(1 / 252)
    assert stats.mann_whitney_exact([1, 2, 3], [4, 5, 6]).less == pytest.approx(1 / 20)
    assert stats.mann_whitney_exact([1.0, 1.0], [1.0, 1.0]) == stats.OneSided(1.0, 1.0)
    assert math.isnan(stats.mann_whitney_exact([], [1.0]).greater)


def test_fisher_exact_one_sided_known_values():
    assert stats.fisher_exact(5, 5, 3, 5).greater == pytest.approx(2 / 9)  # the swimmer, 5/5 vs 3/5
    assert stats.fisher_exact(1, 5, 0, 5).greater == pytest.approx(0.5)  # the ant maze, 1/5 vs 0/5
    assert stats.fisher_exact(5, 5, 0, 5).greater == pytest.approx(1 / 252)
    assert stats.fisher_exact(0, 5, 5, 5).less == pytest.approx(1 / 252)
    assert math.isnan(stats.fisher_exact(0, 0, 1, 2).greater)


def test_trend_test_known_orders():
    assert stats.trend_concordance([[1, 2], [3, 4], [5, 6]]) == 1.0
    assert stats.trend_concordance([[5, 6], [3, 4], [1, 2]]) == 0.0
    assert stats.trend_concordance([[1], [1]]) == 0.5
    point, test = stats.trend_test([[1, 2], [3, 4], [5, 6], [7, 8]], reps=20000)
    # exact: 1 of the 8! / 2!^4 = 2520 splits is as ordered; the permutation estimate is close to it
    assert point == 1.0 and test.greater == pytest.approx(1 / 2520, abs=5e-4) and test.less == 1.0
    assert stats.trend_test([[1, 2], [3, 4]], reps=500, seed=1) == stats.trend_test(
        [[1, 2], [3, 4]], reps=500, seed=1
    )
    noisy = stats.trend_test([[1, 5, 3], [2, 4, 6], [3, 1, 5]], reps=2000)[1]
    assert noisy.greater > 0.2 and noisy.less > 0.2
    assert math.isnan(stats.trend_test([[1.0], []])[0])


def test_probability_of_improvement_matches_rliable_across_tasks():
    metrics = pytest.importorskip("rliable.metrics")
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)) - 0.3
    assert stats.probability_of_improvement(x, y) == pytest.approx(
        float(metrics.probability_of_improvement(x, y))
    )


def test_iqm_and_stratified_bootstrap():
    rng = np.random.default_rng(0)
    scores = {"a": rng.normal(1.0, 0.2, size=(10, 3)), "b": rng.normal(0.0, 0.2, size=(10, 3))}
    assert stats.aggregate_iqm(scores["a"]) == pytest.approx(sps.trim_mean(scores["a"].ravel(), 0.25))
    ivals = stats.stratified_bootstrap_ci(scores, reps=REPS, seed=1)
    for key, iv in ivals.items():
        assert iv.low <= iv.point <= iv.high
        assert iv.point == pytest.approx(stats.aggregate_iqm(scores[key]))
    assert ivals["a"].low > ivals["b"].high
    assert stats.stratified_bootstrap_ci(scores, reps=REPS, seed=1) == ivals
    # ragged tasks (different seed counts) work with per-task lists
    ragged = {"a": [scores["a"][:, 0], scores["a"][:7, 1]]}
    assert stats.stratified_bootstrap_ci(ragged, reps=REPS)["a"].point == pytest.approx(
        sps.trim_mean(np.concatenate(ragged["a"]), 0.25)
    )
    prof = stats.performance_profile(scores, [-10.0, 0.5, 10.0], reps=REPS)
    assert prof["a"][0][0] == 1.0 and prof["a"][0][2] == 0.0
    assert (prof["a"][1] <= prof["a"][0]).all() and (prof["a"][0] <= prof["a"][2]).all()


def test_rliable_backend_agrees_when_importable():
    if not stats.rliable_available():
        pytest.skip("rliable.library does not import here (arch vs pandas 3)")
    rng = np.random.default_rng(0)
    scores = {"a": rng.normal(1.0, 0.2, size=(10, 3))}
    ours = stats.stratified_bootstrap_ci(scores, reps=2000)["a"]
    theirs = stats.stratified_bootstrap_ci(scores, reps=2000, backend="rliable")["a"]
    assert ours.point == pytest.approx(theirs.point)
    assert ours.low == pytest.approx(theirs.low, abs=0.05) and ours.high == pytest.approx(
        theirs.high, abs=0.05
    )


# ------------------------------------------------------------------------------------------------
# Tables


def test_tables_deterministic_and_carry_deviations(swim_root: Path, tmp_path: Path):
    dev = _ledger(tmp_path)
    p1, _ = make_tables(swim_root, tmp_path / "a", reps=REPS, deviations_path=dev)
    p2, _ = make_tables(swim_root, tmp_path / "b", reps=REPS, deviations_path=dev)
    names = sorted(p.name for p in p1)
    assert names == sorted(p.name for p in p2)
    assert (
        "swimmer_summary.md" in names
        and "swimmer_success.tex" in names
        and "swimmer_improvement.csv" in names
    )
    for a in p1:
        b = tmp_path / "b" / a.relative_to(tmp_path / "a")
        assert a.read_bytes() == b.read_bytes(), a.name
        text = a.read_text()
        assert "swim-finish-line" in text and "budget-smoke" in text
        assert "maze-only" not in text
    tex = (tmp_path / "a" / "tables" / "swimmer_summary.tex").read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"eval\_return\_deployed" in tex
    md = (tmp_path / "a" / "tables" / "swimmer_summary.md").read_text()
    assert "bootstrap" in md and "5,000" in md and "0123456789" in md
    csv = pd.read_csv(tmp_path / "a" / "tables" / "swimmer_summary.csv", comment="#")
    row = csv[(csv["algo"] == "sql") & (csv["metric"] == layout.EVAL_RETURN_DEPLOYED)].iloc[0]
    assert (
        row["mean"] == pytest.approx(3.0)
        and row["n"] == 5
        and row["protocol"].startswith(layout.EVAL_RETURN_DEPLOYED)
    )


def test_success_and_improvement_tables(swim_root: Path):
    df, _ = aggregate.load_runs(swim_root)
    s = tables.success_table(df, "score", "max", ">=", 3.0).set_index("algo")
    assert (s.loc["sql", "successes"], s.loc["sql", "n"]) == (3, 5)
    w = stats.wilson_interval(3, 5)
    assert (s.loc["sql", "wilson_low"], s.loc["sql", "wilson_high"]) == (w.low, w.high)
    assert s.loc["ddpg", "successes"] == 0
    imp = tables.improvement_table(df, "score", "final", algo="sql", reps=REPS)
    assert list(imp["baseline"]) == ["ddpg"]
    expected = stats.probability_of_improvement([1, 2, 3, 4, 5], [0, 0, 1, 1])
    assert imp["poi"].iloc[0] == pytest.approx(expected)
    lower = tables.improvement_table(df, "score", "final", algo="sql", higher_is_better=False, reps=REPS)
    assert lower["poi"].iloc[0] == pytest.approx(1.0 - expected)


def test_per_run_table_one_row_per_seed(swim_root: Path):
    df, _ = aggregate.load_runs(swim_root)
    metrics = (tables.MetricSpec("epoch_max_x", "final"), tables.MetricSpec("score", "max"))
    t = tables.per_run_table(df, metrics)
    assert len(t) == 9 and list(t.columns[-2:]) == ["epoch_max_x", "score (max)"]
    sql = t[t["algo"] == "sql"].set_index("seed")
    assert sql.loc[2, "epoch_max_x"] == pytest.approx(4 * 3.0) and sql.loc[4, "score (max)"] == 5.0
    # a column that other experiments' runs logged and none of these did gets no column of n/a
    df["travel_x_deployed"] = np.nan
    t = tables.per_run_table(df, (*metrics, tables.MetricSpec("travel_x_deployed", "final")))
    assert list(t.columns[-2:]) == ["epoch_max_x", "score (max)"]
    spec = tables.default_table_spec("swimmer")
    assert [m.metric for m, _ in spec.per_run][:3] == [
        "max_forward_x",
        "eval_end_x_deployed",
        "eval_travel_ratio_deployed",
    ]


def test_composition_headline_and_every_commit_in_tables(tmp_path: Path):
    """The composed policy's shared-goal fraction gets a summary row (ddof 1) and its comparison with the
    constituents; configurations that do not log a metric get no row; a resumed run lists both commits."""
    fractions = {
        "composed": [0.9, 0.94, 0.98],
        "constituent_a": [0.5, 0.6, 0.4],
        "constituent_b": [0.5, 0.5, 0.6],
    }
    resumed = {"resumes": [{"at": "t", "from_epoch": 1, "git": {"commit": "e" * 40, "dirty": False}}]}
    for label, values in fractions.items():
        for seed, value in enumerate(values):
            synthetic.write_run(
                tmp_path,
                "composition",
                "softq/MultiGoal-v0",
                label,
                seed,
                {"shared_goal_fraction": [value]},
                preset="code",
                manifest_extra=resumed if (label, seed) == ("composed", 0) else None,
            )
    make_tables(tmp_path, tmp_path / "out", reps=REPS, deviations_path=_ledger(tmp_path))
    summary = pd.read_csv(tmp_path / "out" / "tables" / "composition_summary.csv", comment="#")
    assert set(summary["metric"]) == {"shared_goal_fraction"}  # no n/a rows for returns it does not log
    composed = summary.set_index("algo").loc["composed"]
    assert composed["mean"] == pytest.approx(0.94) and composed["std"] == pytest.approx(0.04)  # ddof 1
    assert composed["commits"] == "0123456789, eeeeeeeeee"
    assert summary.set_index("algo").loc["constituent_a", "commits"] == "0123456789"
    improvement = pd.read_csv(tmp_path / "out" / "tables" / "composition_improvement.csv", comment="#")
    assert improvement.set_index("baseline")["poi"].to_dict() == {"constituent_a": 1.0, "constituent_b": 1.0}
    assert "shared_goal_fraction" in (tmp_path / "out" / "tables" / "composition_summary.md").read_text()


def test_claim_tables_carry_run_measures_and_their_definitions(tmp_path: Path):
    for seed in range(3):
        synthetic.write_run(
            tmp_path,
            "swimmer",
            SWIM,
            "sql",
            seed,
            {
                "epoch_min_x": [-1.6, -0.2, -0.2],
                "epoch_max_x": [1.0, 2.4, 2.5 + seed],
                "max_forward_x": [1.0, 2.4, 2.5 + seed],
                "crossed_finish_line": [0, 1, 1],
            },
        )
    make_tables(tmp_path, tmp_path / "out", reps=REPS, deviations_path=_ledger(tmp_path))
    summary = pd.read_csv(tmp_path / "out" / "tables" / "swimmer_summary.csv", comment="#")
    late = summary.set_index("metric").loc["late_forward_x"]
    assert late["mean"] == pytest.approx(3.5) and late["n"] == 3
    assert late["protocol"].startswith("late_forward_x = mean over the run's last 20% of epochs")
    success = pd.read_csv(tmp_path / "out" / "tables" / "swimmer_success.csv", comment="#").set_index(
        "metric"
    )
    assert success.loc["explored_both_directions", "successes"] == 3
    assert success.loc["late_crossing_fraction", "condition"] == "final late_crossing_fraction >= 0.5"


def test_latex_escaping():
    assert tables.tex_escape("a_b & 50% #1 ±") == r"a\_b \& 50\% \#1 $\pm$"


# ------------------------------------------------------------------------------------------------
# Figures


def _three_task_root(root: Path) -> None:
    rng = np.random.default_rng(0)
    for env in ("softq/AntWideHallway-v1", "softq/AntNarrowHallway-v1", "softq/AntUMaze-v1"):
        for algo, level in (("sql_pretrained", 3.0), ("ddpg_scratch", 1.0)):
            for seed in range(3):
                synthetic.write_run(
                    root,
                    "finetune",
                    env,
                    algo,
                    seed,
                    {
                        layout.EVAL_DISCOUNTED_RETURN_DEPLOYED: synthetic.curve(level, 6, rng, 0.2),
                        layout.EVAL_RETURN_DEPLOYED: synthetic.curve(level, 6, rng, 0.2),
                    },
                )


def _check_pair(paths: list[Path]) -> None:
    png, pdf = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 2000


def test_every_figure_renders_headless(swim_root: Path, tmp_path: Path):
    _three_task_root(swim_root)
    df, _ = aggregate.load_runs(swim_root)
    swim = df[df["experiment"] == "swimmer"]
    fine = df[df["experiment"] == "finetune"]
    figs = {
        "lines": plots.plot_seed_lines(swim, "score", ref=3.0, ref_label="finish line"),
        "bands": plots.plot_seed_bands(swim, "epoch_min_x", "epoch_max_x", ref=3.0, ref_label="finish line"),
        "meanstd": plots.plot_mean_std(fine, layout.EVAL_DISCOUNTED_RETURN_DEPLOYED),
        "rliable": plots.plot_rliable(fine, layout.EVAL_DISCOUNTED_RETURN_DEPLOYED, "auc:0.5", reps=REPS),
    }
    assert plots.plot_rliable(swim, "score") is None  # one task only
    for name, fig in figs.items():
        title = fig._suptitle.get_text()
        assert "profile: smoke" in title and "steps" in title and "seeds" in title, name
        _check_pair(plots.save_figure(fig, tmp_path / "figs" / name, ("png", "pdf")))
    lines_title = " ".join(figs["lines"]._suptitle.get_text().split())
    assert "sql [paper] n=5 (0-4)" in lines_title and "5,000 steps" in lines_title
    # fixed metadata: saving again gives the same bytes
    first = [p.read_bytes() for p in plots.save_figure(figs["lines"], tmp_path / "x1", ("png", "pdf"))]
    again = [p.read_bytes() for p in plots.save_figure(figs["lines"], tmp_path / "x2", ("png", "pdf"))]
    assert first == again
    assert [p.name for p in plots.save_figure(figs["lines"], tmp_path / "x3")] == ["x3.png"]  # PNG by default
    with pytest.raises(ValueError, match=r"figure formats must be some of \['png', 'pdf'\], got \['svg'\]"):
        plots.save_figure(figs["lines"], tmp_path / "x4", ("svg",))
    assert "matplotlib.pyplot" not in sys.modules or plots.matplotlib.get_backend().lower() == "agg"


def test_make_generic_figures_default_specs(swim_root: Path, tmp_path: Path):
    _three_task_root(swim_root)
    specs = [
        plots.FigureSpec("swim_lines", "seed_lines", "swimmer", metric="max_forward_x"),  # no such column
        plots.FigureSpec(
            "swim_bands", "seed_bands", "swimmer", low="epoch_min_x", high="epoch_max_x", ref=3.0
        ),
        plots.FigureSpec(
            "fine_iqm",
            "rliable",
            "finetune",
            metric=layout.EVAL_DISCOUNTED_RETURN_DEPLOYED,
            reduction="auc:0.5",
        ),
    ]
    png_only, _ = make_generic_figures(swim_root, tmp_path / "png", specs, reps=REPS)
    assert sorted(p.name for p in png_only) == ["fine_iqm.png", "swim_bands.png"]
    paths, _ = make_generic_figures(swim_root, tmp_path / "out", specs, reps=REPS, formats=("png", "pdf"))
    assert sorted(p.name for p in paths) == [
        "fine_iqm.pdf",
        "fine_iqm.png",
        "swim_bands.pdf",
        "swim_bands.png",
    ]
    assert all(p.parent == tmp_path / "out" / "figures" for p in paths)
    again, _ = make_generic_figures(swim_root, tmp_path / "out2", specs, reps=REPS, formats=("png", "pdf"))
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_profiles_are_not_mixed_in_one_figure(tmp_path: Path):
    # the layout has no profile level: each profile lives under its own root (the CLI's --out)
    for profile in ("smoke", "quick"):
        for seed in range(2):
            synthetic.write_run(
                tmp_path / profile, "swimmer", SWIM, "sql", seed, {"score": [0.0, 1.0]}, profile=profile
            )
    df = pd.concat([aggregate.load_runs(tmp_path / "smoke")[0], aggregate.load_runs(tmp_path / "quick")[0]])
    assert set(df["profile"]) == {"smoke", "quick"}
    spec = plots.FigureSpec("lines", "seed_lines", "swimmer", metric="score")
    paths = plots.write_figures(df, tmp_path / "f", [spec], formats=("png", "pdf"))
    assert sorted(p.name for p in paths) == [
        "lines__quick.pdf",
        "lines__quick.png",
        "lines__smoke.pdf",
        "lines__smoke.png",
    ]


def test_learner_order_keeps_every_arm_next_to_its_learner():
    # Fig. 1 draws one row per label: an arm such as sql_paper must get its row, after its learner's
    labels = ["sac", "sql_paper", "ddpg", "custom", "sql", "ddpg_scratch", "sql"]
    assert plots.learner_order(labels) == ["sql", "sql_paper", "ddpg", "ddpg_scratch", "sac", "custom"]


def test_presets_are_per_algorithm_and_never_pooled(tmp_path: Path):
    # sql runs preset "code" and "paper", ddpg only "paper": sql is split, and both sql presets face ddpg
    for seed in range(3):
        synthetic.write_run(
            tmp_path / "a", "swimmer", SWIM, "sql", seed, {"score": [0.0, 3.0]}, preset="code"
        )
        synthetic.write_run(
            tmp_path / "b", "swimmer", SWIM, "sql", seed, {"score": [0.0, 1.0]}, preset="paper"
        )
        synthetic.write_run(
            tmp_path / "a", "swimmer", SWIM, "ddpg", seed, {"score": [0.0, 2.0]}, preset="paper"
        )
    df = pd.concat([aggregate.load_runs(tmp_path / "a")[0], aggregate.load_runs(tmp_path / "b")[0]])
    labelled = aggregate.label_configs(df)
    assert set(labelled["algo"]) == {"sql (code)", "sql (paper)", "ddpg"}
    imp = tables.improvement_table(df, "score", algo="sql", reps=REPS).set_index("algo_preset")
    assert imp.loc["code", "poi"] == 1.0 and imp.loc["paper", "poi"] == 0.0
    assert set(imp["baseline_preset"]) == {"paper"}
    summary = tables.summary_table(df, "score", reps=REPS)
    assert len(summary) == 3
    fig = plots.plot_seed_lines(labelled, "score")
    assert "sql (code) n=3" in " ".join(fig._suptitle.get_text().split())
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {
        "sql (code)",
        "sql (paper)",
        "ddpg",
    }


def test_ledger_loading(tmp_path: Path):
    devs = ledger.load_deviations(_ledger(tmp_path))
    assert [d.id for d in devs] == ["swim-finish-line", "budget-smoke", "maze-only"]
    assert [d.id for d in ledger.applicable(devs, "swimmer")] == ["swim-finish-line", "budget-smoke"]
    assert ledger.load_deviations(tmp_path / "absent.yaml") == []
    assert isinstance(ledger.load_deviations(), list)  # the project's ledger parses


def test_analysis_imports_no_training_stack():
    code = (
        "import sys, experiments.analysis, experiments.analysis.plots, experiments.analysis.scorecard, "
        "experiments.claims; bad = [m for m in ('torch', 'stable_baselines3', 'softq') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert os.system(f'{sys.executable} -c "{code}"') == 0
