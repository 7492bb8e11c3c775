"""Claims -> verdicts -> results/SCORECARD.md.

The verdict rule is :data:`VERDICT_RULE` (printed at the top of the scorecard) and is implemented by the pure
functions :func:`verdict_rate`, :func:`verdict_mean` and :func:`verdict_better`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis import aggregate, ledger, stats, tables
from experiments.claims import CLAIMS, BetterSpec, Claim, MeanSpec, RateSpec

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_RUN = "not run"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN)

CONFIDENCE = 0.95
MAX_RATE_WIDTH = 0.5  # a Wilson interval wider than this cannot confirm a proportion
MIN_SEEDS_BOOTSTRAP = 5  # bootstrap intervals from fewer seeds per algorithm decide nothing

VERDICT_RULE = f"""\
Each claim is checked on our finished runs, separately for every (env, profile, preset) we ran, at
{CONFIDENCE:.0%} confidence:

- **Rate claims** (the paper reports the fraction of runs that succeed): we count our seeds whose metric
  meets the success condition and compute the Wilson score interval of that proportion. **Reproduced** if
  the interval contains the paper's proportion and is at most {MAX_RATE_WIDTH:g} wide. **Not reproduced** if
  the interval excludes the paper's proportion (at any number of seeds; note that for a paper proportion of
  100% a single failed seed excludes it). Otherwise **inconclusive** (too few seeds to tell).
- **Threshold claims** (mean of a diagnostic at least / at most a bound): percentile bootstrap interval of
  the mean over seeds. **Reproduced** if the whole interval is on the claimed side of the bound (bound
  included), **not reproduced** if the whole interval is strictly on the other side, **inconclusive** if
  it straddles the bound.
- **Ordering claims** (algorithm A better than B): probability of improvement P(A > B) (Mann-Whitney U / nm,
  ties count one half) with a percentile bootstrap interval, A's and B's seeds resampled independently.
  **Reproduced** if the interval lies entirely above 0.5, **not reproduced** if entirely below 0.5,
  **inconclusive** otherwise.
- Bootstrap-based verdicts (threshold and ordering claims) need at least {MIN_SEEDS_BOOTSTRAP} seeds of each
  algorithm involved; with fewer they are **inconclusive** whatever the interval says.
- **Not run**: no finished runs of the algorithm(s) the claim is about (or none that log its metric).

The paper's values are shown for comparison only; the "ours" column is computed from our runs alone."""


# ------------------------------------------------------------------------------------------------
# The rule (pure functions)


def verdict_rate(
    successes: int,
    n: int,
    paper_rate: float,
    confidence: float = CONFIDENCE,
    max_width: float = MAX_RATE_WIDTH,
) -> str:
    if n <= 0:
        return NOT_RUN
    ci = stats.wilson_interval(successes, n, confidence)
    if not ci.contains(paper_rate):
        return NOT_REPRODUCED
    if ci.width <= max_width + 1e-12:
        return REPRODUCED
    return INCONCLUSIVE


def verdict_mean(
    interval: stats.Interval, bound: float, side: str, n: int, min_seeds: int = MIN_SEEDS_BOOTSTRAP
) -> str:
    if n <= 0 or math.isnan(interval.point):
        return NOT_RUN
    if n < min_seeds:
        return INCONCLUSIVE
    if side == "at_least":
        right, wrong = interval.low >= bound, interval.high < bound
    elif side == "at_most":
        right, wrong = interval.high <= bound, interval.low > bound
    else:
        raise ValueError(f"side must be at_least or at_most, got {side!r}")
    if right:
        return REPRODUCED
    if wrong:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def verdict_better(
    interval: stats.Interval, n_algo: int, n_baseline: int, min_seeds: int = MIN_SEEDS_BOOTSTRAP
) -> str:
    if n_algo <= 0 or n_baseline <= 0 or math.isnan(interval.point):
        return NOT_RUN
    if min(n_algo, n_baseline) < min_seeds:
        return INCONCLUSIVE
    if interval.low > 0.5:
        return REPRODUCED
    if interval.high < 0.5:
        return NOT_REPRODUCED
    return INCONCLUSIVE


# ------------------------------------------------------------------------------------------------
# Evaluating claims on runs


@dataclass
class ClaimResult:
    claim: Claim
    verdict: str
    ours: str = "-"
    env: str = "-"
    profile: str = "-"
    preset: str = "-"
    budget: str = "-"
    seeds: str = "-"
    point: float = math.nan
    low: float = math.nan
    high: float = math.nan
    n: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _f(x: float, digits: int = 3) -> str:
    return tables.fmt(x, digits)


def _p(x: float) -> str:
    """A proportion or probability: two decimals."""
    return "n/a" if x is None or math.isnan(x) else f"{x:.2f}"


def _seeds_text(vals: pd.DataFrame, algos) -> str:
    parts = []
    for algo in algos:
        seeds = vals.loc[vals["algo"] == algo, "seed"]
        parts.append(f"{algo}: n={len(seeds)} ({aggregate.describe_seeds(seeds)})")
    return "; ".join(parts)


def _seed_values(vals: pd.DataFrame, algo: str, metric: str, result: ClaimResult) -> np.ndarray:
    """One value per seed of ``algo``; runs lacking the metric are noted on ``result`` and left out."""
    values = vals.loc[vals["algo"] == algo, "value"]
    missing = int(values.isna().sum())
    if missing:
        result.notes.append(f"{missing} {algo} run(s) lack {metric}; left out")
    values = values.dropna().to_numpy(float)
    result.n[algo] = len(values)
    return values


def _evaluate_group(claim: Claim, vals: pd.DataFrame, result: ClaimResult, reps: int, seed: int) -> None:
    spec = claim.spec
    pct = f"{CONFIDENCE:.0%}"
    a = _seed_values(vals, spec.algo, spec.metric, result)
    if isinstance(spec, RateSpec):
        k = int(sum(spec.success(v) for v in a))
        ci = stats.wilson_interval(k, len(a), CONFIDENCE)
        result.point, result.low, result.high = ci.point, ci.low, ci.high
        result.verdict = verdict_rate(k, len(a), spec.paper_rate)
        if len(a):
            result.ours = f"{k}/{len(a)} = {_p(ci.point)} ({pct} Wilson [{_p(ci.low)}, {_p(ci.high)}])"
    elif isinstance(spec, MeanSpec):
        ci = stats.bootstrap_ci(a, reps=reps, confidence=CONFIDENCE, seed=seed)
        _, sd, n = stats.mean_std(a)
        result.point, result.low, result.high = ci.point, ci.low, ci.high
        result.verdict = verdict_mean(ci, spec.bound, spec.side, n)
        if n:
            result.ours = (
                f"mean {_f(ci.point)} (sd {_f(sd)}; {pct} bootstrap CI [{_f(ci.low)}, {_f(ci.high)}])"
            )
    elif isinstance(spec, BetterSpec):
        b = _seed_values(vals, spec.baseline, spec.metric, result)
        if not spec.higher_is_better:
            a, b = -a, -b
        if len(a) and len(b):
            ci = stats.probability_of_improvement_ci(a, b, reps=reps, confidence=CONFIDENCE, seed=seed)
            sign = 1 if spec.higher_is_better else -1
            result.point, result.low, result.high = ci.point, ci.low, ci.high
            result.ours = (
                f"P({spec.algo} > {spec.baseline}) = {_p(ci.point)} ({pct} bootstrap CI "
                f"[{_p(ci.low)}, {_p(ci.high)}]); means {_f(sign * a.mean())} vs {_f(sign * b.mean())}"
            )
            result.verdict = verdict_better(ci, len(a), len(b))
        else:
            result.verdict = NOT_RUN
    else:  # pragma: no cover
        raise TypeError(f"unknown spec {type(spec).__name__}")


def evaluate_claim(
    claim: Claim, df: pd.DataFrame, reps: int = stats.DEFAULT_REPS, seed: int = stats.DEFAULT_SEED
) -> list[ClaimResult]:
    """One result per (env, profile, preset) the claim's algorithm ran at; one "not run" result if none."""
    spec = claim.spec
    sub = df[df["experiment"] == claim.experiment] if len(df) else df
    subject = sub[sub["algo"] == spec.algo] if len(sub) else sub
    if len(subject) == 0:
        return [
            ClaimResult(
                claim, NOT_RUN, notes=[f"no finished {spec.algo} runs in experiment {claim.experiment}"]
            )
        ]
    results = []
    combos = subject[["env", "profile", "preset"]].drop_duplicates().sort_values(["env", "profile", "preset"])
    envs = sorted(subject["env"].unique())
    for env, profile, preset in combos.itertuples(index=False):
        result = ClaimResult(claim, NOT_RUN, env=env, profile=profile, preset=preset)
        here = sub[(sub["env"] == env) & (sub["profile"] == profile)]
        parts = [here[(here["algo"] == spec.algo) & (here["preset"] == preset)]]
        if isinstance(spec, BetterSpec):
            base = here[here["algo"] == spec.baseline]
            presets = sorted(base["preset"].unique())
            if preset in presets:
                base = base[base["preset"] == preset]
            elif len(presets) == 1:
                result.notes.append(f"{spec.baseline} runs are preset {presets[0]!r}")
            elif len(presets) > 1:
                result.notes.append(
                    f"{spec.baseline} has several presets {presets}, none {preset!r}; not compared"
                )
                base = base.iloc[0:0]
            if len(base) == 0 and not result.notes:
                result.notes.append(f"no finished {spec.baseline} runs at {env}, profile {profile}")
            parts.append(base)
            if spec.expected_tasks and len(envs) < spec.expected_tasks:
                result.notes.append(f"only {len(envs)} of the paper's {spec.expected_tasks} tasks run")
        runs = pd.concat(parts)
        vals = aggregate.run_values(runs, spec.metric, spec.reduction)
        result.budget = aggregate.describe_budget(vals["budget_steps"])
        result.seeds = _seeds_text(vals, spec.algos)
        _evaluate_group(claim, vals, result, reps, seed)
        if result.verdict == NOT_RUN and result.n.get(spec.algo, 0) == 0 and len(vals):
            result.notes.append(f"no {spec.algo} run logs {spec.metric}")
        results.append(result)
    return results


def evaluate_claims(
    df: pd.DataFrame, claims=CLAIMS, reps: int = stats.DEFAULT_REPS, seed: int = stats.DEFAULT_SEED
) -> list[ClaimResult]:
    out = []
    for claim in claims:
        out.extend(evaluate_claim(claim, df, reps=reps, seed=seed))
    return out


def results_frame(results: list[ClaimResult]) -> pd.DataFrame:
    rows = []
    for r in results:
        rows.append(
            {
                "claim": r.claim.id,
                "experiment": r.claim.experiment,
                "kind": r.claim.kind,
                "env": r.env,
                "profile": r.profile,
                "preset": r.preset,
                "verdict": r.verdict,
                "point": r.point,
                "low": r.low,
                "high": r.high,
                "ours": r.ours,
                "budget_steps": r.budget,
                "seeds": r.seeds,
                "notes": "; ".join(r.notes),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# The page


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_scorecard(
    results: list[ClaimResult],
    deviations: list[ledger.Deviation],
    problems: list[aggregate.Problem] = (),
    n_runs: int = 0,
    root: str | Path | None = None,
) -> str:
    lines = [
        "# Scorecard: the paper's claims against our runs",
        "",
        "Haarnoja, Tang, Abbeel, Levine, *Reinforcement Learning with Deep Energy-Based Policies*, ICML 2017.",
        f"Generated by `experiments.analysis.make_scorecard` from {n_runs} finished run(s); "
        "claims are defined in `experiments/claims.py`.",
        "",
        "## Verdict rule",
        "",
        VERDICT_RULE,
        "",
        "## Claims",
        "",
        "| claim | env | paper | ours | budget (steps) | seeds | profile (preset) | verdict | deviations |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        devs = ", ".join(d.id for d in ledger.applicable(deviations, r.claim.experiment)) or "-"
        ours = r.ours + (f" ({'; '.join(r.notes)})" if r.notes else "")
        profile = "-" if r.profile == "-" else f"{r.profile} ({r.preset})"
        cells = [
            r.claim.id,
            r.env,
            r.claim.paper_value,
            ours,
            r.budget,
            r.seeds,
            profile,
            f"**{r.verdict}**",
            devs,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    lines += ["", "Summary: " + ", ".join(f"{v}: {counts[v]}" for v in VERDICTS) + ".", ""]
    lines += ["## What each claim measures", ""]
    seen = set()
    for r in results:
        c = r.claim
        if c.id in seen:
            continue
        seen.add(c.id)
        extra = ""
        if isinstance(c.spec, RateSpec):
            extra = f" Paper's proportion: {c.spec.paper_rate:g}."
        lines.append(
            f"- **{c.id}** ({c.source}): {c.statement} Measured as: {c.spec.condition()} "
            f"(reduction per run: {aggregate.Reduction.parse(c.spec.reduction).describe(c.spec.metric)}).{extra}"
        )
    lines += ["", "## Deviations from the paper", ""]
    experiments = sorted({r.claim.experiment for r in results})
    chosen = ledger.applicable(deviations, experiments)
    if not chosen:
        lines.append("None recorded in experiments/deviations.yaml for these experiments.")
    for d in chosen:
        lines.append(
            f"- **{d.id}** (applies to: {', '.join(d.applies_to)}): ours: {d.ours} Paper: {d.paper} Why: {d.why}"
        )
    lines += ["", "## Runs left out or flagged", ""]
    if not problems:
        lines.append("None.")
    for p in sorted(problems, key=lambda p: p.path.as_posix()):
        lines.append(f"- {p.describe(root)}")
    return "\n".join(lines) + "\n"


def write_scorecard(
    df: pd.DataFrame,
    out_path: str | Path,
    claims=CLAIMS,
    deviations: list[ledger.Deviation] | None = None,
    problems: list[aggregate.Problem] = (),
    root: str | Path | None = None,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> list[ClaimResult]:
    """Evaluate ``claims`` on ``df`` (from :func:`aggregate.load_runs`) and write the Markdown scorecard."""
    deviations = ledger.load_deviations() if deviations is None else deviations
    results = evaluate_claims(df, claims, reps=reps, seed=seed)
    n_runs = int(df[list(aggregate.RUN_KEY)].drop_duplicates().shape[0]) if len(df) else 0
    text = render_scorecard(results, deviations, problems, n_runs=n_runs, root=root)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(text.encode("utf-8"))
    return results
