"""The claim registry and the verdict rule: every answer of the rule on crafted inputs, the claims on
synthetic run folders with known answers (including the edge cases of issue 11), and the scorecard page."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from experiments import claims as C
from experiments import layout
from experiments.analysis import aggregate, ledger, make_scorecard, measures, scorecard, synthetic
from experiments.analysis.scorecard import INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN, REPRODUCED
from experiments.analysis.stats import Interval, OneSided, fisher_exact

REPS = 300
MG, SW, AM, PT = (
    "softq/MultiGoal-v0",
    "softq/SwimmerFinishLine-v1",
    "softq/AntMaze-v0",
    "softq/AntPretrain-v1",
)
TASKS = ("softq/AntWideHallway-v1", "softq/AntNarrowHallway-v1", "softq/AntUMaze-v1")


# ------------------------------------------------------------------------------------------------
# Registry


def test_registry_is_well_formed():
    ids = [c.id for c in C.CLAIMS]
    assert len(ids) == len(set(ids))
    assert {c.experiment for c in C.CLAIMS} == {"multigoal", "swimmer", "antmaze", "finetune", "pretrain"}
    for c in C.CLAIMS:
        assert c.id.startswith(c.experiment + ".")
        assert c.statement and c.paper_value and c.source
        assert c.kind in ("rate", "mean_at_least", "mean_at_most", "better", "compare", "trend")
        for m in c.spec.measured():
            aggregate.Reduction.parse(m.reduction)  # valid reduction
        assert c.experiment in C.PAPER_BUDGETS
    rates = {c.id: c.spec.paper_rate for c in C.CLAIMS if c.kind == "rate"}
    assert rates == {
        "multigoal.sql_all_goals": 1.0,  # per seed (issue 11: was a mean over seeds)
        "multigoal.ddpg_one_goal": 1.0,
        "multigoal.sql_q_multimodal_origin": 1.0,
        "multigoal.sql_q_bimodal_diagonal": 1.0,
        "multigoal.sql_q_unimodal_left": 1.0,
        "multigoal.sql_sampler_draws_from_policy": 1.0,
        "multigoal.sql_sampler_beats_uniform": 1.0,
        "multigoal.single_particle_one_goal": 1.0,
        "swimmer.sql_stays_forward": 1.0,
        "swimmer.sql_crosses": 1.0,
        "swimmer.ddpg_crosses": 0.8,
        "swimmer.sql_explores_both_directions": 1.0,
        "swimmer.ddpg_ends_backward": 0.2,
        "antmaze.sql_below_threshold": 1.0,
        "antmaze.ddpg_below_threshold": 0.6,
    }
    one_goal = C.get_claim("multigoal.ddpg_one_goal").spec
    assert (one_goal.metric, one_goal.op, one_goal.threshold) == ("goals_reached", "==", 1)
    better = [c for c in C.CLAIMS if c.kind == "better"]
    assert {c.spec.baseline for c in better} == {"ddpg_scratch", "ddpg_pretrained"}
    assert all(c.spec.algo == "sql_pretrained" and c.spec.expected_tasks == 3 for c in better)
    # every exploration figure has a comparative claim SQL vs DDPG
    comparisons = [c for c in C.CLAIMS if c.kind == "compare"]
    paper = [c for c in comparisons if not c.paper_value.startswith("beyond the paper")]
    compared = {c.source.split(", ", 1)[1]: c.spec for c in paper}
    assert {"Fig. 1", "Fig. 3a", "Fig. 3b", "Fig. 6"} <= {f for s in compared for f in s.split(", ")}
    assert all((s.algo, s.baseline) == ("sql", "ddpg") for s in compared.values())
    # beyond the paper: the 2017 code's action bounding against the 2018 code's, and Sec. 4's single particle
    beyond = {c.id: (c.spec.algo, c.spec.baseline) for c in comparisons if c not in paper}
    assert beyond == {
        "multigoal.clip_vs_squash_fidelity": ("sql_clip", "sql"),
        "multigoal.clip_vs_squash_goals": ("sql_clip", "sql"),
        "multigoal.single_particle_vs_sql_goals": ("sql_single_particle", "sql"),
    }
    trends = [c.spec for c in C.CLAIMS if c.kind == "trend"]
    assert {t.metric for t in trends} == {"distance_exploring", "heading_concentration_exploring"}
    assert all(
        t.groups == ("sql_alpha10", "sql_alpha1", "sql", "sql_alpha0.01") and t.increasing for t in trends
    )
    assert C.get_claim("swimmer.sql_crosses").experiment == "swimmer"
    assert [c.id for c in C.claims_for("antmaze")] == [
        "antmaze.sql_below_threshold",
        "antmaze.ddpg_below_threshold",
        "antmaze.sql_vs_ddpg_passage",
    ]


def test_spec_validation():
    with pytest.raises(ValueError):
        C.RateSpec("sql", "m", "max", "=>", 1, 1.0)
    with pytest.raises(ValueError):
        C.RateSpec("sql", "m", "max", ">=", 1, 1.5)
    with pytest.raises(ValueError):
        C.MeanSpec("sql", "m", "final", 1.0, side="above")
    with pytest.raises(ValueError):
        C.Condition("m", "max", "=>", 1)
    with pytest.raises(ValueError):
        C.TrendSpec(("a",), ("a",), "m", "final")
    assert C.RateSpec("sql", "m", "max", ">=", 1, 1.0).success(1.0)
    assert not C.RateSpec("sql", "m", "max", ">=", 1, 1.0).success(0.0)


def test_every_claim_reads_a_logged_column_or_a_run_measure():
    from experiments.evaluation import Episode
    from experiments.tasks.antmaze.training import AntMazeMetrics
    from experiments.tasks.multigoal.training import MultiGoalMetrics
    from experiments.tasks.pretrain.training import PretrainMetrics
    from experiments.tasks.swimmer.training import SwimmerMetrics

    swimmer = SwimmerMetrics()
    swimmer.observe_training_step([{"com_x": 0.0}])
    logged = set(swimmer.epoch_metrics([], []))
    ant = AntMazeMetrics()
    ant.observe_training_step([{"distance_to_target": 5.0}])
    logged |= set(ant.epoch_metrics([], []))
    logged |= set(MultiGoalMetrics().epoch_metrics([], [Episode(infos=[{"goal": 0}])]))
    moved = Episode(infos=[{"com_travel_x": 1.0, "com_travel_y": 1.0, "com_path": 2.0}])
    logged |= set(PretrainMetrics().epoch_metrics([moved], [moved]))
    logged |= {layout.EVAL_RETURN_DEPLOYED, layout.EVAL_DISCOUNTED_RETURN_DEPLOYED}
    for c in C.CLAIMS:
        for m in c.spec.measured():
            assert m.metric in logged | set(C.RUN_MEASURES), (c.id, m.metric)


def test_pretraining_distances_and_headings_by_hand():
    """Distances and headings are the centre of mass's displacement since reset (the env's com_travel_*)."""
    from experiments.evaluation import Episode
    from experiments.tasks.pretrain.training import PretrainMetrics

    def episode(dx: float, dy: float, path: float) -> Episode:
        start = {"com_travel_x": 0.0, "com_travel_y": 0.0, "com_path": 0.0}
        return Episode(infos=[start, {"com_travel_x": dx, "com_travel_y": dy, "com_path": path}])

    # the last stayed put, jiggling 1 m back and forth
    exploring = [episode(3.0, 4.0, 5.0), episode(-3.0, 4.0, 10.0), episode(0.001, 0.0, 1.0)]
    row = PretrainMetrics().epoch_metrics([episode(0.0, 2.0, 8.0)], exploring)
    assert row["distance_deployed"] == 2.0
    assert row["distance_exploring"] == pytest.approx((5.0 + 5.0 + 0.001) / 3)
    assert row["heading_concentration_exploring"] == pytest.approx(0.8)  # ||((0.6, 0.8) + (-0.6, 0.8)) / 2||
    assert row["path_deployed"] == 8.0 and row["travel_ratio_deployed"] == 0.25
    assert row["path_exploring"] == pytest.approx(16.0 / 3)
    assert row["travel_ratio_exploring"] == pytest.approx(10.001 / 16.0)


def test_finetuning_travel_by_hand():
    """Fine-tuning logs the deployed rollouts' centre-of-mass travel (signed along x, its norm, the path),
    their length and, on goal tasks, their closest approach to the target."""
    from experiments.evaluation import Episode
    from experiments.tasks.finetune.training import FinetuneMetrics

    def episode(dx: float, dy: float, path: float, steps: int = 1) -> Episode:
        travel = {"com_travel_x": dx, "com_travel_y": dy, "com_path": path}
        return Episode(rewards=[0.0] * steps, infos=[travel] * steps)

    def on_goal_task(distances: list[float]) -> Episode:
        infos = [
            {"com_travel_x": 0.0, "com_travel_y": 0.0, "com_path": 0.0, "distance_to_target": d}
            for d in distances
        ]
        return Episode(rewards=[0.0] * len(distances), infos=infos)

    # one ran 4 m the hallway's way and 3 m across it on a 10 m path, one 2 m back on a straight path
    # and fell over after 3 steps
    row = FinetuneMetrics().epoch_metrics([episode(4.0, 3.0, 10.0, 5), episode(-2.0, 0.0, 2.0, 3)], [])
    assert row["travel_x_deployed"] == 1.0
    assert row["distance_deployed"] == 3.5 and row["path_deployed"] == 6.0
    assert row["travel_ratio_deployed"] == pytest.approx(7.0 / 12.0)
    assert row["length_deployed"] == 4.0 and "min_distance_to_target_deployed" not in row  # no goal
    # a goal task: the closest approach of each episode (not its end), averaged
    row = FinetuneMetrics().epoch_metrics([on_goal_task([6.0, 2.0, 5.0]), on_goal_task([4.0])], [])
    assert row["min_distance_to_target_deployed"] == 3.0 and row["length_deployed"] == 2.0


def test_definitions_agree_with_the_code_and_the_paper_profiles():
    from experiments.registry import get_experiment
    from experiments.tasks.multigoal import Q_PLOT_STATES
    from softq.envs.swimmer import FINISH_LINE_X

    assert C.SWIMMER_FINISH_LINE_X == FINISH_LINE_X
    for index, state in C.Q_MODE_STATES.values():
        assert tuple(Q_PLOT_STATES[index]) == state
    for experiment, budget in C.PAPER_BUDGETS.items():
        assert budget.steps == get_experiment(experiment).config.budget("paper").total_steps, experiment


# ------------------------------------------------------------------------------------------------
# The rule (pure functions)


@pytest.mark.parametrize(
    ("k", "n", "p", "verdict"),
    [
        (10, 10, 1.0, REPRODUCED),  # Wilson [0.72, 1] contains 1, width 0.28
        (5, 5, 1.0, REPRODUCED),  # [0.57, 1], width 0.43
        (9, 10, 1.0, NOT_REPRODUCED),  # upper bound < 1
        (3, 3, 1.0, INCONCLUSIVE),  # [0.44, 1], width 0.56
        (8, 10, 0.8, REPRODUCED),  # [0.49, 0.94]
        (2, 3, 0.8, INCONCLUSIVE),  # [0.21, 0.94]: too wide
        (2, 10, 0.8, NOT_REPRODUCED),  # [0.06, 0.51]
        (10, 10, 0.6, NOT_REPRODUCED),  # [0.72, 1] excludes 0.6
        (0, 0, 0.6, NOT_RUN),
        # issue 11: "only some" (0 < paper rate < 1) is contradicted by all successes or none,
        # although Wilson [0.57, 1] contains 0.8 and [0, 0.43] contains 0.2
        (5, 5, 0.8, NOT_REPRODUCED),
        (3, 3, 0.8, NOT_REPRODUCED),
        (0, 5, 0.2, NOT_REPRODUCED),
        (4, 5, 0.8, INCONCLUSIVE),  # [0.38, 0.96]: 5 seeds cannot confirm 80%
        (1, 5, 0.2, INCONCLUSIVE),
        (2, 10, 0.2, REPRODUCED),  # [0.06, 0.51]
        (0, 10, 0.0, REPRODUCED),  # "none" is not "only some"
    ],
)
def test_verdict_rate(k, n, p, verdict):
    assert scorecard.verdict_rate(k, n, p) == verdict


@pytest.mark.parametrize(
    ("ci", "side", "n", "verdict"),
    [
        (Interval(3.8, 3.6, 4.0), "at_least", 10, REPRODUCED),
        (Interval(3.5, 3.5, 3.5), "at_least", 10, REPRODUCED),  # bound included
        (Interval(3.5, 3.2, 3.8), "at_least", 10, INCONCLUSIVE),
        (Interval(2.0, 1.5, 2.5), "at_least", 10, NOT_REPRODUCED),
        (Interval(3.8, 3.6, 4.0), "at_least", 4, INCONCLUSIVE),  # too few seeds
        (Interval(1.0, 1.0, 1.2), "at_most", 10, REPRODUCED),
        (Interval(3.0, 2.0, 4.0), "at_most", 10, NOT_REPRODUCED),
        (Interval(math.nan, math.nan, math.nan), "at_most", 0, NOT_RUN),
    ],
)
def test_verdict_mean(ci, side, n, verdict):
    bound = 3.5 if side == "at_least" else 1.5
    assert scorecard.verdict_mean(ci, bound, side, n) == verdict


UP, DOWN, FLAT = OneSided(0.001, 0.999), OneSided(0.999, 0.001), OneSided(0.5, 0.5)


@pytest.mark.parametrize(
    ("ci", "n", "mw", "verdict"),
    [
        (Interval(0.9, 0.7, 1.0), 10, UP, REPRODUCED),
        (Interval(0.1, 0.0, 0.3), 10, DOWN, NOT_REPRODUCED),
        (Interval(0.6, 0.4, 0.8), 10, FLAT, INCONCLUSIVE),
        (Interval(0.5, 0.5, 0.5), 10, FLAT, INCONCLUSIVE),
        (Interval(1.0, 1.0, 1.0), 3, UP, INCONCLUSIVE),  # too few seeds
        (Interval(math.nan, math.nan, math.nan), 0, OneSided(math.nan, math.nan), NOT_RUN),
        # issue 11: the exact Mann-Whitney test stands beside the bootstrap interval; both must agree
        (Interval(0.8, 0.55, 1.0), 5, OneSided(0.08, 0.95), INCONCLUSIVE),
        (Interval(0.2, 0.0, 0.45), 5, OneSided(0.95, 0.08), INCONCLUSIVE),
    ],
)
def test_verdict_better(ci, n, mw, verdict):
    assert scorecard.verdict_better(ci, n, n, mw) == verdict


@pytest.mark.parametrize(
    ("counts", "ordering", "verdict"),
    [
        ((5, 5, 3, 5), REPRODUCED, INCONCLUSIVE),  # the swimmer's 5/5 vs 3/5: Fisher p = 0.22
        ((1, 5, 0, 5), REPRODUCED, INCONCLUSIVE),  # the ant maze's 1/5 vs 0/5: p = 0.5
        ((5, 5, 1, 5), REPRODUCED, REPRODUCED),  # p = 0.024
        ((4, 5, 0, 5), REPRODUCED, REPRODUCED),  # p = 0.024
        ((5, 5, 0, 5), INCONCLUSIVE, INCONCLUSIVE),  # counts alone do not decide
        ((0, 5, 5, 5), INCONCLUSIVE, NOT_REPRODUCED),  # DDPG significantly more often
        ((3, 5, 3, 5), NOT_REPRODUCED, NOT_REPRODUCED),  # DDPG's continuous measure significantly better
        ((0, 0, 3, 5), NOT_RUN, NOT_RUN),
    ],
)
def test_verdict_compare(counts, ordering, verdict):
    assert scorecard.verdict_compare(fisher_exact(*counts), ordering) == verdict


@pytest.mark.parametrize(
    ("test", "increasing", "verdict"),
    [
        (OneSided(0.01, 0.99), True, REPRODUCED),
        (OneSided(0.01, 0.99), False, NOT_REPRODUCED),
        (OneSided(0.99, 0.01), False, REPRODUCED),
        (OneSided(0.2, 0.8), True, INCONCLUSIVE),
        (OneSided(math.nan, math.nan), True, NOT_RUN),
    ],
)
def test_verdict_trend(test, increasing, verdict):
    assert scorecard.verdict_trend(test, increasing) == verdict


def test_budget_fraction_labels():
    assert scorecard.budget_fractions("antmaze", [20_000.0, 20_000.0]) == [0.004]
    assert scorecard.budget_fractions("swimmer", [50_000.0, 500_000.0]) == [0.01, 0.1]
    assert scorecard.budget_fractions("composition", [10_000.0]) == []  # not in the paper
    assert [scorecard.percent(f) for f in (0.004, 0.01, 0.03, 0.1, 1.0)] == [
        "0.4%",
        "1%",
        "3%",
        "10%",
        "100%",
    ]
    assert scorecard.verdict_label(NOT_REPRODUCED, [0.004]) == "not reproduced at 0.4% of the paper's budget"
    assert scorecard.verdict_label(REPRODUCED, [0.01, 0.1]) == "reproduced at 1% / 10% of the paper's budget"
    assert scorecard.verdict_label(REPRODUCED, [1.0]) == REPRODUCED
    assert scorecard.verdict_label(NOT_RUN, [0.004]) == NOT_RUN
    assert scorecard.verdict_label(INCONCLUSIVE, []) == INCONCLUSIVE


def test_verdict_rule_text_states_each_answer():
    for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN):
        assert f"**{v[0].upper()}{v[1:]}**" in scorecard.VERDICT_RULE or f"**{v}**" in scorecard.VERDICT_RULE
    assert "Wilson" in scorecard.VERDICT_RULE and "bootstrap" in scorecard.VERDICT_RULE
    for phrase in (
        "only some",
        "Fisher",
        "Mann-Whitney",
        "Jonckheere-Terpstra",
        "of the paper's budget",
        "standard profile",
        "seed lists",
    ):
        assert phrase in scorecard.VERDICT_RULE, phrase


# ------------------------------------------------------------------------------------------------
# Claims evaluated on crafted runs


def _crafted_root(root: Path) -> None:
    """multigoal: SQL reaches 4 goals (reproduced), DDPG reaches 3 (its 'one goal' claim not reproduced).
    swimmer: 3 SQL seeds all cross (inconclusive), DDPG 8/10 cross (reproduced).
    antmaze: nothing run. finetune: SQL-pretrained above DDPG-scratch, below DDPG-pretrained, 2 tasks."""
    e = 4
    for seed in range(10):
        synthetic.write_run(root, "multigoal", MG, "sql", seed, {"goals_reached": [1, 2, 4, 4]})
        synthetic.write_run(root, "multigoal", MG, "ddpg", seed, {"goals_reached": [1, 1, 3, 3]})
        crossed = [0, 0, 1, 1] if seed < 8 else [0, 0, 0, 0]
        synthetic.write_run(root, "swimmer", SW, "ddpg", seed, {"crossed_finish_line": crossed})
    for seed in range(3):
        synthetic.write_run(root, "swimmer", SW, "sql", seed, {"crossed_finish_line": [0, 1, 1, 0]})
    rng = np.random.default_rng(0)
    for env in TASKS[:2]:
        for seed in range(6):
            for algo, level in (("sql_pretrained", 5.0), ("ddpg_scratch", 1.0), ("ddpg_pretrained", 9.0)):
                values = np.full(e, level) + rng.normal(0, 0.1, e)
                synthetic.write_run(
                    root, "finetune", env, algo, seed, {layout.EVAL_DISCOUNTED_RETURN_DEPLOYED: values}
                )


def _by_claim(results):
    out = {}
    for r in results:
        out.setdefault(r.claim.id, []).append(r)
    return out


def _evaluate(root: Path):
    df, problems = aggregate.load_runs(root)
    assert problems == []
    return _by_claim(scorecard.evaluate_claims(measures.add_run_measures(df, root), reps=REPS))


def test_claims_on_crafted_runs_give_each_verdict(tmp_path: Path):
    _crafted_root(tmp_path)
    res = _evaluate(tmp_path)
    assert [r.verdict for r in res["multigoal.sql_all_goals"]] == [REPRODUCED]
    assert res["multigoal.sql_all_goals"][0].ours.startswith("10/10")  # every seed: 4 goals at the end
    assert [r.verdict for r in res["multigoal.ddpg_one_goal"]] == [NOT_REPRODUCED]
    assert res["multigoal.ddpg_one_goal"][0].ours.startswith("0/10")
    sql_swim = res["swimmer.sql_crosses"][0]
    assert sql_swim.verdict == INCONCLUSIVE and sql_swim.ours.startswith("3/3")
    ddpg_swim = res["swimmer.ddpg_crosses"][0]
    assert ddpg_swim.verdict == REPRODUCED and ddpg_swim.ours.startswith("8/10")
    assert ddpg_swim.seeds == "ddpg: n=10 (0-9)" and ddpg_swim.budget == "4,000"
    assert [r.verdict for r in res["antmaze.sql_below_threshold"]] == [NOT_RUN]
    assert [r.verdict for r in res["antmaze.ddpg_below_threshold"]] == [NOT_RUN]
    scratch = res["finetune.sql_pretrained_beats_ddpg_scratch"]
    assert [r.env for r in scratch] == sorted(TASKS[:2])
    assert all(r.verdict == REPRODUCED and r.point == 1.0 for r in scratch)
    assert all(r.p_value == pytest.approx(1 / 924) for r in scratch)  # 6 vs 6 fully separated: 1 / C(12, 6)
    assert all("only 2 of the paper's 3 tasks run" in r.notes for r in scratch)
    pretrained = res["finetune.sql_pretrained_beats_ddpg_pretrained"]
    assert all(r.verdict == NOT_REPRODUCED and r.point == 0.0 for r in pretrained)
    # the crafted runs log neither the Q grids nor the swimmer's extremes: those claims are not run
    assert res["multigoal.sql_q_multimodal_origin"][0].verdict == NOT_RUN
    assert res["swimmer.sql_stays_forward"][0].verdict == NOT_RUN
    assert [r.verdict for r in res["pretrain.lower_alpha_runs_farther"]] == [NOT_RUN]


def test_missing_metric_and_missing_baseline(tmp_path: Path):
    for seed in range(5):
        synthetic.write_run(tmp_path, "antmaze", AM, "sql", seed, {"other_metric": [1.0, 2.0]})
        synthetic.write_run(
            tmp_path,
            "finetune",
            TASKS[0],
            "sql_pretrained",
            seed,
            {layout.EVAL_DISCOUNTED_RETURN_DEPLOYED: [1.0, 2.0]},
        )
    df, _ = aggregate.load_runs(tmp_path)
    res = _by_claim(scorecard.evaluate_claims(df, reps=REPS))
    am = res["antmaze.sql_below_threshold"][0]
    assert am.verdict == NOT_RUN and any("below_threshold" in n for n in am.notes)
    ft = res["finetune.sql_pretrained_beats_ddpg_scratch"][0]
    assert ft.verdict == NOT_RUN and any("ddpg_scratch" in n for n in ft.notes)


def test_lower_is_better_ordering(tmp_path: Path):
    claim = C.Claim(
        "x.sql_closer",
        "x",
        "SQL gets closer",
        "SQL closer",
        "test",
        C.BetterSpec("sql", "ddpg", "dist", "min", higher_is_better=False),
    )
    for seed in range(5):
        synthetic.write_run(tmp_path, "x", "softq/X-v0", "sql", seed, {"dist": [5.0, 1.0]})
        synthetic.write_run(tmp_path, "x", "softq/X-v0", "ddpg", seed, {"dist": [5.0, 3.0]})
    df, _ = aggregate.load_runs(tmp_path)
    (r,) = scorecard.evaluate_claim(claim, df, reps=REPS)
    assert r.verdict == REPRODUCED and r.point == 1.0 and "means 1.00 vs 3.00" in r.ours
    assert "Mann-Whitney p = 0.004" in r.ours  # 1 / C(10, 5) = 0.00397


def test_exact_test_overrules_a_narrow_bootstrap_at_small_n(tmp_path: Path):
    claim = C.Claim(
        "x.sql_higher", "x", "SQL higher", "SQL higher", "test", C.BetterSpec("sql", "ddpg", "s", "final")
    )
    for seed in range(5):  # 4 of 5 SQL seeds above every DDPG seed, one below all: P = 0.8
        synthetic.write_run(
            tmp_path, "x", "softq/X-v0", "sql", seed, {"s": [0.0, 10.0 + seed if seed else -1.0]}
        )
        synthetic.write_run(tmp_path, "x", "softq/X-v0", "ddpg", seed, {"s": [0.0, float(seed)]})
    df, _ = aggregate.load_runs(tmp_path)
    (r,) = scorecard.evaluate_claim(claim, df, reps=REPS)
    assert r.point == pytest.approx(0.8) and r.p_value == pytest.approx(0.0754, abs=1e-3)
    assert r.verdict == INCONCLUSIVE


# ------------------------------------------------------------------------------------------------
# Issue 11's edge cases on synthetic run folders with known answers


def _swimmer_run(root: Path, algo: str, seed: int, low, high, **kwargs) -> Path:
    n = len(high)
    forward_max = np.maximum.accumulate(np.asarray(high, dtype=float))
    metrics = {
        "epoch_min_x": np.asarray(low, dtype=float),
        "epoch_max_x": np.asarray(high, dtype=float),
        "max_forward_x": forward_max,
        "crossed_finish_line": (forward_max > C.SWIMMER_FINISH_LINE_X).astype(float),
    }
    return synthetic.write_run(
        root, "swimmer", SW, algo, seed, metrics, steps_per_epoch=10_000 // n * 5, **kwargs
    )


def _issue_swimmer_root(root: Path) -> None:
    """The issue's quick swimmer in miniature (10 epochs of 5,000 steps = 1% of the paper's budget):
    every SQL seed goes 1.6 m backward, touches the line once (2.2-2.4 m) and is back below it at the end,
    except seed 0, which stays forward; every DDPG seed swims forward from the start and stays there."""
    for seed in range(5):
        back = [-0.3, -1.6, -0.5, -0.4] + [-0.3] * 6
        late = [2.6] * 6 if seed == 0 else [1.2, 1.0, 0.9, 1.1, 0.8, 1.0]
        _swimmer_run(root, "sql", seed, back, [0.5, 1.0, 1.4, 2.2 + 0.05 * seed] + late)
        _swimmer_run(root, "ddpg", seed, [-0.2] * 10, [0.8, 2.5] + [3.0 + 0.1 * seed] * 8)


def test_swimmer_touch_once_is_crossed_but_not_forward_and_all_ddpg_is_not_only_some(tmp_path: Path):
    _issue_swimmer_root(tmp_path)
    res = _evaluate(tmp_path)
    one = {cid: rows[0] for cid, rows in res.items()}
    assert one["swimmer.sql_crosses"].verdict == REPRODUCED and one["swimmer.sql_crosses"].ours.startswith(
        "5/5"
    )
    assert one["swimmer.sql_crosses"].label == "reproduced at 1% of the paper's budget"
    stays = one["swimmer.sql_stays_forward"]
    assert stays.verdict == NOT_REPRODUCED and stays.ours.startswith("1/5")
    assert stays.label == "not reproduced at 1% of the paper's budget"
    assert one["swimmer.sql_explores_both_directions"].verdict == REPRODUCED
    # 5/5 DDPG cross: the paper's "only some (80%)" is not reproduced by an all-success sample
    assert one["swimmer.ddpg_crosses"].verdict == NOT_REPRODUCED and one[
        "swimmer.ddpg_crosses"
    ].ours.startswith("5/5")
    # and none ends backward: the paper's 20% is not reproduced by a no-success sample
    assert one["swimmer.ddpg_ends_backward"].verdict == NOT_REPRODUCED
    # comparative: 5/5 vs 5/5 crossings (Fisher p = 1), but every DDPG seed got farther forward (3.0-3.4 m
    # against 2.2-2.6 m: P = 0, reverse Mann-Whitney p = 1/252), so SQL's better exploration is not reproduced
    crossing = one["swimmer.sql_vs_ddpg_crossing"]
    assert crossing.verdict == NOT_REPRODUCED and crossing.brief.startswith("5/5 vs 5/5 (Fisher p = 1)")
    forward = one["swimmer.sql_vs_ddpg_stays_forward"]
    assert forward.verdict == NOT_REPRODUCED and forward.brief.startswith("1/5 vs 5/5")
    both = one["swimmer.sql_vs_ddpg_both_directions"]
    assert both.verdict == REPRODUCED and both.brief.startswith("5/5 vs 0/5")
    assert both.p_value == pytest.approx(1 / 252)


def test_antmaze_one_of_five_against_none(tmp_path: Path):
    """The quick ant maze: 20,000 steps (0.4% of the paper's 5M), SQL 1/5 below the threshold, DDPG 0/5."""
    for seed in range(5):
        for algo, distance in (("sql", 3.0 if seed == 0 else 4.0 + seed), ("ddpg", 5.0 + seed)):
            below = float(distance < 3.162)
            synthetic.write_run(
                tmp_path,
                "antmaze",
                AM,
                algo,
                seed,
                {"min_distance_to_target": [9.0, distance], "below_threshold": [0.0, below]},
                steps_per_epoch=10_000,
            )
    one = {cid: rows[0] for cid, rows in _evaluate(tmp_path).items()}
    assert one["antmaze.sql_below_threshold"].label == "not reproduced at 0.4% of the paper's budget"
    assert one["antmaze.ddpg_below_threshold"].verdict == NOT_REPRODUCED  # 0/5: Wilson [0, 0.43] excludes 0.6
    passage = one["antmaze.sql_vs_ddpg_passage"]
    assert passage.verdict == INCONCLUSIVE and passage.brief.startswith("1/5 vs 0/5 (Fisher p = 0.5)")
    assert passage.label == "inconclusive at 0.4% of the paper's budget"


def _multigoal_root(root: Path, profile: str = "quick", labels=("sql",)) -> None:
    """SQL: 4 goals; Q unimodal near the left goal, four modes at the origin, two at (2.5, 2.5) on every seed
    but seed 4 (one mode there). DDPG: one goal per seed."""
    axis = np.linspace(-1.0, 1.0, 31)
    ax, ay = np.meshgrid(axis, axis, indexing="xy")

    def bump(x, y):
        return 3.0 * np.exp(-((ax - x) ** 2 + (ay - y) ** 2) / 0.18)

    origin = sum(bump(x, y) for x, y in ((1, 0), (-1, 0), (0, 1), (0, -1)))
    for seed in range(5):
        diagonal = bump(0.7, 0.0) + bump(0.0, 0.7) if seed < 4 else bump(0.5, 0.5)
        for label in labels:
            preset = "paper" if label == "sql_paper" else "code"
            run = synthetic.write_run(
                root,
                "multigoal",
                MG,
                label,
                seed,
                {"goals_reached": [2, 4]},
                steps_per_epoch=5000,
                profile=profile,
                preset=preset,
            )
            synthetic.write_artifact(
                run, measures.Q_VALUES, synthetic.q_grid_table([bump(-0.8, 0), origin, diagonal])
            )
        synthetic.write_run(
            root,
            "multigoal",
            MG,
            "ddpg",
            seed,
            {"goals_reached": [1, 1]},
            steps_per_epoch=5000,
            profile=profile,
        )


def test_multigoal_q_modes_per_seed(tmp_path: Path):
    _multigoal_root(tmp_path)
    one = {cid: rows[0] for cid, rows in _evaluate(tmp_path).items()}
    assert one["multigoal.sql_q_unimodal_left"].verdict == REPRODUCED
    assert one["multigoal.sql_q_multimodal_origin"].verdict == REPRODUCED
    diagonal = one["multigoal.sql_q_bimodal_diagonal"]
    assert diagonal.verdict == NOT_REPRODUCED and diagonal.ours.startswith("4/5")
    assert one["multigoal.ddpg_one_goal"].verdict == REPRODUCED
    goals = one["multigoal.sql_vs_ddpg_goals"]
    assert goals.verdict == REPRODUCED and goals.brief.startswith("5/5 vs 0/5")
    assert goals.label == REPRODUCED  # 10,000 steps: the paper's whole multi-goal budget


def _pretrain_root(root: Path, distances: dict[str, list[float]]) -> None:
    for label, values in distances.items():
        for seed, d in enumerate(values):
            synthetic.write_run(
                root,
                "pretrain",
                PT,
                label,
                seed,
                {"distance_exploring": [0.1, d], "heading_concentration_exploring": [0.5, d / 10]},
                steps_per_epoch=25_000,
                preset=label.removeprefix("sql_") or "alpha0.1",
            )


def test_pretraining_temperature_trend(tmp_path: Path):
    ordered = {
        "sql_alpha10": [1.0, 1.2, 0.9],
        "sql_alpha1": [2.0, 2.1, 1.8],
        "sql": [3.0, 3.3, 2.9],
        "sql_alpha0.01": [4.0, 4.4, 3.9],
    }
    _pretrain_root(tmp_path / "up", ordered)
    res = _evaluate(tmp_path / "up")
    (far,) = res["pretrain.lower_alpha_runs_farther"]
    assert far.verdict == REPRODUCED and far.point == 1.0 and far.p_value < 0.001
    assert far.label == "reproduced at 1% of the paper's budget"
    assert far.seeds.startswith("alpha 10: n=3 (0-2)")
    assert res["pretrain.lower_alpha_less_diverse"][0].verdict == REPRODUCED
    _pretrain_root(
        tmp_path / "down", {k: v[::-1] for k, v in zip(ordered, list(ordered.values())[::-1], strict=True)}
    )
    assert _evaluate(tmp_path / "down")["pretrain.lower_alpha_runs_farther"][0].verdict == NOT_REPRODUCED
    _pretrain_root(tmp_path / "part", {k: v for k, v in ordered.items() if k != "sql_alpha0.01"})
    (part,) = _evaluate(tmp_path / "part")["pretrain.lower_alpha_runs_farther"]
    assert part.verdict == NOT_RUN and "no finished runs at alpha 0.01" in part.notes


def test_standard_root_rows_and_unequal_seeds(tmp_path: Path):
    """A standard-profile root: multigoal with sql and sql_paper; pretraining and fine-tuning absent."""
    _multigoal_root(tmp_path, profile="standard", labels=("sql", "sql_paper"))
    synthetic.write_run(tmp_path, "multigoal", MG, "ddpg", 5, {"goals_reached": [1, 1]}, profile="standard")
    res = _evaluate(tmp_path)
    rows = res["multigoal.sql_vs_ddpg_goals"]
    assert [(r.subject, r.preset) for r in rows] == [("sql", "code"), ("sql_paper", "paper")]
    assert all("unequal seed lists" in r.notes for r in rows)
    assert [(r.subject, r.verdict) for r in res["multigoal.sql_all_goals"]] == [
        ("sql", REPRODUCED),
        ("sql_paper", REPRODUCED),
    ]
    for cid in (
        "pretrain.lower_alpha_runs_farther",
        "finetune.sql_pretrained_beats_ddpg_scratch",
        "swimmer.sql_stays_forward",
    ):
        assert [r.verdict for r in res[cid]] == [NOT_RUN]


# ------------------------------------------------------------------------------------------------
# The page


def _summary_rows(text: str) -> list[list[str]]:
    """The rows of the summary's tables (one per experiment), without their headers."""
    lines = text.splitlines()
    summary = lines[lines.index("## Summary") : lines.index("## Details")]
    tables = [line for line in summary if line.startswith("|")]
    return [
        [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        for line in tables
        if not line.startswith(("| claim |", "|---"))
    ]


def test_scorecard_page(tmp_path: Path):
    root = tmp_path / "results"
    _issue_swimmer_root(root)
    _multigoal_root(root)
    resumed = {"resumes": [{"at": "t", "from_epoch": 4, "git": {"commit": "f" * 40, "dirty": True}}]}
    _swimmer_run(root, "sql", 5, [-1.7] * 10, [1.0] * 3 + [2.5] * 7, manifest_extra=resumed)
    broken = synthetic.write_run(root, "antmaze", AM, "sql", 0, {"below_threshold": [0, 1]}, status="running")
    dev = tmp_path / "dev.yaml"
    dev.write_text(
        "deviations:\n"
        "  - {id: mg-horizon, applies_to: [multigoal], paper: T=20, ours: T=30, why: public code}\n"
        "  - {id: seeds-all, applies_to: all, paper: several seeds, ours: 10 seeds, why: budget}\n"
        "  - {id: swim-line, applies_to: [swimmer, antmaze], paper: no line, ours: 2 m, why: measured}\n"
    )
    out = tmp_path / "SCORECARD.md"
    results, problems = make_scorecard(root, out, reps=REPS, deviations_path=dev)
    assert [p.path for p in problems] == [broken]
    text = out.read_text()
    assert text.index("## Verdict rule") < text.index("## Summary") < text.index("## Details")
    assert text.index("## Details") < text.index("## Deviations from the paper")
    assert scorecard.VERDICT_RULE in text
    for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN):
        assert f"**{v}" in text
    lines = text.splitlines()
    summary = lines[lines.index("## Summary") : lines.index("## Details")]
    headers = [line for line in summary if line.startswith("| claim |")]
    assert summary.count("### multigoal") == 1 and len(headers) == len({c.experiment for c in C.CLAIMS})
    assert [h.strip() for h in headers[0].strip("|").split("|")] == [
        "claim",
        "paper",
        "ours",
        "budget (% of the paper's)",
        "seeds",
        "verdict",
        "robust",
        "deviations",
    ]
    rows = _summary_rows(text)
    assert len(rows) == len(results)
    for cells, r in zip(rows, results, strict=True):
        claim = C.get_claim(cells[0].split(" (")[0])
        assert claim is r.claim and cells[1] == claim.paper_value
        ours = cells[2]
        assert claim.paper_value not in ours and ours == r.brief
        # the paper's proportions are percentages; ours are counts and decimals
        assert not re.search(r"\b(100|80|60|20)%", ours)
        assert cells[5] == f"**{r.label}**"
        assert cells[6] in (f"**{r.robustness}**", r.robustness)
        assert cells[7] == f"ledger: {claim.experiment}"  # one pointer, not every id
    by_id = {r.claim.id: cells for cells, r in zip(rows, results, strict=True)}
    assert by_id["swimmer.sql_crosses"][2:6] == [
        "6/6",
        "1% (50,000 steps)",
        "sql: n=6 (0-5)",
        "**reproduced at 1% of the paper's budget**",
    ]
    assert by_id["swimmer.sql_vs_ddpg_crossing"][4] == "sql: n=6 (0-5); ddpg: n=5 (0-4)"
    assert by_id["multigoal.sql_all_goals"][3:6] == [
        "100% (10,000 steps)",
        "sql: n=5 (0-4)",
        "**reproduced**",
    ]
    assert by_id["finetune.sql_pretrained_beats_ddpg_scratch"][3:6] == ["-", "-", "**not run**"]
    assert "Notes: unequal seed lists." in text
    # every ledger entry is written once, and each experiment's line lists its own ids
    for entry in ("mg-horizon", "seeds-all", "swim-line"):
        assert text.count(f"- **{entry}** (applies to:") == 1
    assert "- **every experiment**: seeds-all" in text
    assert "- **ledger: swimmer**: swim-line and the entries for every experiment" in text
    assert "- **ledger: pretrain**: no entries of its own and the entries for every experiment" in text
    # provenance: a resumed run shows both commits it ran under
    assert "Commits: 0123456789, ffffffffff+dirty." in text
    assert "- swimmer: 5,000,000 steps: 500 epochs x 10,000 steps (App. D.1)." in text
    assert "antmaze/softq-AntMaze-v0/sql/seed_0: status is 'running'" in text
    assert str(tmp_path) not in text  # no machine-specific paths
    out2 = tmp_path / "again.md"
    make_scorecard(root, out2, reps=REPS, deviations_path=dev)
    assert out.read_bytes() == out2.read_bytes()


def test_scorecard_without_runs(tmp_path: Path):
    out = tmp_path / "SCORECARD.md"
    results, _ = make_scorecard(tmp_path, out, reps=REPS, deviations_path=tmp_path / "none.yaml")
    assert {r.verdict for r in results} == {NOT_RUN}
    assert len(results) == len(C.CLAIMS)
    assert "None recorded" in out.read_text()


def test_project_ledger_loads_for_scorecard():
    devs = ledger.load_deviations()
    for d in devs:
        assert d.id and d.applies_to


# App. D.1's values per task (docs/paper-notes.md, Hyperparameters; the paper's numbers, used only as the
# reference the ledger is checked against): Adam 1e-3 (Q) / 1e-4 (sampler, DDPG's actor), batch 64,
# 10,000 samples before training, 2 x 200 units, hard target copy every 1000 steps (swimmer 5000),
# K_V = 50, K = M = 32 (multi-goal 100), h = d / (2 log(M + 1)), alpha 10 (multi-goal) or 0.1
# (the MuJoCo tasks).
D1 = {
    "learning_rate": 1e-3,
    "sampler_learning_rate": 1e-4,
    "batch_size": 64,
    "learning_starts": 10_000,
    "net_arch": [200, 200],
    "target_update_interval": 1000,
    "value_n_particles": 50,
    "kernel_n_particles": 64,
    "bandwidth_rule": "paper",
    "reward_scale": 10.0,
}
D1_TASK = {
    "multigoal": {"kernel_n_particles": 200, "reward_scale": 0.1},
    "composition": {"kernel_n_particles": 200, "reward_scale": 0.1},
    "swimmer": {"target_update_interval": 5000},
}
# which ledger entry records a difference in each value
LEDGER_FOR = {
    "learning_rate": "code-preset-learning-rates",
    "sampler_learning_rate": "code-preset-learning-rates",
    "batch_size": "code-preset-batch-size",
    "learning_starts": "code-preset-warmup",
    "net_arch": "code-preset-network-width",
    "target_update_interval": "swimmer-target-interval",
    "value_n_particles": "sql-value-proposal",
    "kernel_n_particles": "sql-svgd-particles",
    "bandwidth_rule": "bandwidth-d",
    "reward_scale": "swimmer-temperature",
}
# each experiment's run labels for the paper's algorithms (SQL and DDPG) at their default presets
PAPER_ALGOS = {
    "multigoal": ("sql", "ddpg"),
    "swimmer": ("sql", "ddpg"),
    "antmaze": ("sql", "ddpg"),
    "pretrain": ("sql", "ddpg"),
    "finetune": ("sql_pretrained", "ddpg_scratch", "ddpg_pretrained"),
    "composition": ("sql",),
}


def test_ledger_covers_every_default_preset_value_that_differs_from_app_d1():
    from experiments.registry import get_experiment
    from softq.sql import load_presets

    devs = {d.id: d for d in ledger.load_deviations()}
    for experiment, algos in PAPER_ALGOS.items():
        config = get_experiment(experiment).config
        reference = {**D1, **D1_TASK.get(experiment, {})}
        for algo in algos:
            _, params = config.hyperparameters(algo)
            if config.algorithm(algo) == "sql":
                params = {**load_presets()[params.pop("preset")], **params}
            params["net_arch"] = (params.pop("policy_kwargs", None) or {}).get("net_arch")
            for key, paper in reference.items():
                if key not in params or params[key] == paper:
                    continue
                entry = devs[LEDGER_FOR[key]]
                assert entry.applies(experiment), (experiment, algo, key, params[key], entry.id)


def test_swimmer_metrics_separate_travel_from_wiggle():
    from experiments.evaluation import Episode
    from experiments.metrics import travel_ratio
    from experiments.tasks.swimmer.training import SwimmerMetrics

    metrics = SwimmerMetrics()
    metrics.observe_training_step([{"com_x": 0.5}])
    # one episode swam 2 m forward on a 2 m path, one went 1 m out and back (net 0, path 2 m)
    metrics.observe_training_step(
        [{"com_x": 2.0, "com_travel": 2.0, "com_path": 2.0, "terminal_observation": 0}]
    )
    metrics.observe_training_step(
        [{"com_x": -1.0, "com_travel": 0.0, "com_path": 2.0, "terminal_observation": 0}]
    )
    deployed = [
        Episode(
            infos=[
                {"com_x": 0.0, "com_travel": 0.0, "com_path": 0.0},
                {"com_x": x, "com_travel": x, "com_path": p},
            ]
        )
        for x, p in ((1.0, 1.0), (-0.5, 1.5))
    ]
    row = metrics.epoch_metrics(deployed, [])
    assert row["epoch_travel"] == 1.0 and row["epoch_path"] == 2.0 and row["epoch_travel_ratio"] == 0.5
    assert row["eval_end_x_deployed"] == 0.25 and row["eval_travel_ratio_deployed"] == pytest.approx(
        1.5 / 2.5
    )
    assert (row["epoch_min_x"], row["epoch_max_x"], row["max_forward_x"]) == (-1.0, 2.0, 2.0)
    assert np.isnan(travel_ratio(np.zeros(0), np.zeros(0)))
    # an epoch in which no episode ended has no travel numbers, and the next starts afresh
    metrics.observe_training_step([{"com_x": 0.1}])
    row = metrics.epoch_metrics(deployed, [])
    assert np.isnan(row["epoch_travel"]) and np.isnan(row["epoch_travel_ratio"]) and row["epoch_max_x"] == 0.1
