"""The claim registry and the verdict rule: every answer of the rule on crafted inputs, and the scorecard."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from experiments import claims as C
from experiments import layout
from experiments.analysis import aggregate, ledger, make_scorecard, scorecard, synthetic
from experiments.analysis.scorecard import INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN, REPRODUCED
from experiments.analysis.stats import Interval

REPS = 300
MG, SW, AM = "softq/MultiGoal-v0", "softq/SwimmerFinishLine-v0", "softq/AntMaze-v0"
TASKS = ("softq/AntWideHallway-v0", "softq/AntNarrowHallway-v0", "softq/AntUMaze-v0")


# ------------------------------------------------------------------------------------------------
# Registry


def test_registry_is_well_formed():
    ids = [c.id for c in C.CLAIMS]
    assert len(ids) == len(set(ids))
    assert {c.experiment for c in C.CLAIMS} == {"multigoal", "swimmer", "antmaze", "finetune"}
    for c in C.CLAIMS:
        assert c.id.startswith(c.experiment + ".")
        assert c.statement and c.paper_value and c.source
        assert c.kind in ("rate", "mean_at_least", "mean_at_most", "better")
        aggregate.Reduction.parse(c.spec.reduction)  # valid reduction
    kinds = {c.id: c.kind for c in C.CLAIMS}
    assert kinds["multigoal.sql_all_goals"] == "mean_at_least"
    assert kinds["multigoal.ddpg_one_goal"] == "mean_at_most"
    rates = {c.id: c.spec.paper_rate for c in C.CLAIMS if c.kind == "rate"}
    assert rates == {
        "swimmer.sql_crosses": 1.0,
        "swimmer.ddpg_crosses": 0.8,
        "antmaze.sql_below_threshold": 1.0,
        "antmaze.ddpg_below_threshold": 0.6,
    }
    better = [c for c in C.CLAIMS if c.kind == "better"]
    assert {c.spec.baseline for c in better} == {"ddpg_scratch", "ddpg_pretrained"}
    assert all(c.spec.algo == "sql_pretrained" and c.spec.expected_tasks == 3 for c in better)
    assert C.get_claim("swimmer.sql_crosses").experiment == "swimmer"
    assert [c.id for c in C.claims_for("antmaze")] == [
        "antmaze.sql_below_threshold",
        "antmaze.ddpg_below_threshold",
    ]


def test_spec_validation():
    with pytest.raises(ValueError):
        C.RateSpec("sql", "m", "max", "=>", 1, 1.0)
    with pytest.raises(ValueError):
        C.RateSpec("sql", "m", "max", ">=", 1, 1.5)
    with pytest.raises(ValueError):
        C.MeanSpec("sql", "m", "final", 1.0, side="above")
    assert C.RateSpec("sql", "m", "max", ">=", 1, 1.0).success(1.0)
    assert not C.RateSpec("sql", "m", "max", ">=", 1, 1.0).success(0.0)


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


@pytest.mark.parametrize(
    ("ci", "n", "verdict"),
    [
        (Interval(0.9, 0.7, 1.0), 10, REPRODUCED),
        (Interval(0.1, 0.0, 0.3), 10, NOT_REPRODUCED),
        (Interval(0.6, 0.4, 0.8), 10, INCONCLUSIVE),
        (Interval(0.5, 0.5, 0.5), 10, INCONCLUSIVE),
        (Interval(1.0, 1.0, 1.0), 3, INCONCLUSIVE),  # too few seeds
        (Interval(math.nan, math.nan, math.nan), 0, NOT_RUN),
    ],
)
def test_verdict_better(ci, n, verdict):
    assert scorecard.verdict_better(ci, n, n) == verdict


def test_verdict_rule_text_states_each_answer():
    for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN):
        assert f"**{v[0].upper()}{v[1:]}**" in scorecard.VERDICT_RULE or f"**{v}**" in scorecard.VERDICT_RULE
    assert "Wilson" in scorecard.VERDICT_RULE and "bootstrap" in scorecard.VERDICT_RULE


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


def test_claims_on_crafted_runs_give_each_verdict(tmp_path: Path):
    _crafted_root(tmp_path)
    df, problems = aggregate.load_runs(tmp_path)
    assert problems == []
    res = _by_claim(scorecard.evaluate_claims(df, reps=REPS))
    assert [r.verdict for r in res["multigoal.sql_all_goals"]] == [REPRODUCED]
    assert res["multigoal.sql_all_goals"][0].point == 4.0
    assert [r.verdict for r in res["multigoal.ddpg_one_goal"]] == [NOT_REPRODUCED]
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
    assert all("only 2 of the paper's 3 tasks run" in r.notes for r in scratch)
    pretrained = res["finetune.sql_pretrained_beats_ddpg_pretrained"]
    assert all(r.verdict == NOT_REPRODUCED and r.point == 0.0 for r in pretrained)


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


# ------------------------------------------------------------------------------------------------
# The page


def test_scorecard_page(tmp_path: Path):
    root = tmp_path / "results"
    _crafted_root(root)
    broken = synthetic.write_run(root, "antmaze", AM, "sql", 0, {"below_threshold": [0, 1]}, status="running")
    dev = tmp_path / "dev.yaml"
    dev.write_text(
        "deviations:\n"
        "  - {id: mg-horizon, applies_to: [multigoal], paper: T=20, ours: T=30, why: public code}\n"
        "  - {id: seeds-all, applies_to: all, paper: several seeds, ours: 10 seeds, why: budget}\n"
    )
    out = tmp_path / "SCORECARD.md"
    results, problems = make_scorecard(root, out, reps=REPS, deviations_path=dev)
    assert [p.path for p in problems] == [broken]
    text = out.read_text()
    assert text.index("## Verdict rule") < text.index("## Claims")
    assert scorecard.VERDICT_RULE in text
    for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN):
        assert f"**{v}**" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "claim |" not in line]
    assert len(rows) == len(results)
    header = [
        h.strip()
        for h in text.splitlines()[
            [i for i, line in enumerate(text.splitlines()) if line.startswith("| claim |")][0]
        ]
        .strip("|")
        .split("|")
    ]
    assert header == [
        "claim",
        "env",
        "paper",
        "ours",
        "budget (steps)",
        "seeds",
        "profile (preset)",
        "verdict",
        "deviations",
    ]
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        claim = C.get_claim(cells[0])
        assert cells[2] == claim.paper_value
        ours = cells[3]
        assert claim.paper_value not in ours
        # the paper's proportions are percentages; ours are counts and decimals
        assert not re.search(r"\b(100|80|60)%", ours)
        if claim.experiment == "multigoal":
            assert cells[8] == "mg-horizon, seeds-all"
        else:
            assert cells[8] == "seeds-all"
    assert "**mg-horizon**" in text and "public code" in text
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
