"""Claims -> verdicts -> results/SCORECARD.md.

The verdict rule is :data:`VERDICT_RULE` (printed at the top of the scorecard) and is implemented by the pure
functions :func:`verdict_rate`, :func:`verdict_mean`, :func:`verdict_better`, :func:`verdict_compare` and
:func:`verdict_trend`; :func:`verdict_label` adds the budget fraction (:func:`budget_fractions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis import aggregate, ledger, measures, stats, tables
from experiments.claims import (
    ALTERNATIVES,
    BUDGET_INDEPENDENT_SCHEDULES,
    CLAIMS,
    PAPER_BUDGETS,
    RUN_LABELS,
    TRAJECTORY_FRACTIONS,
    BetterSpec,
    Claim,
    CompareSpec,
    MeanSpec,
    RateSpec,
    TrendSpec,
)

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_RUN = "not run"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN)

CONFIDENCE = 0.95
ALPHA = 0.05  # level of every one-sided exact or permutation test
MAX_RATE_WIDTH = 0.5  # a Wilson interval wider than this cannot confirm a proportion
MIN_SEEDS_BOOTSTRAP = 5  # bootstrap intervals from fewer seeds per algorithm decide nothing
TREND_REPS = 20000  # permutations of the trend test

VERDICT_RULE = f"""\
Each claim is checked on our finished runs, one row per env, profile and run label (with its preset) it
applies to. Intervals are at {CONFIDENCE:.0%} confidence, tests one-sided at the {ALPHA:g} level. The paper's
values are shown for comparison only; the "ours" column is computed from our runs alone.

- **Rate claims** (the paper reports the fraction of runs that succeed): we count our seeds whose per-run
  measure meets the success condition, with the Wilson score interval of that proportion.
  - A paper proportion strictly between 0 and 1 says that *only some* runs succeed: a sample in which every
    seed succeeds, or none does, is **not reproduced**, whatever the interval.
  - Otherwise **reproduced** if the interval contains the paper's proportion and is at most
    {MAX_RATE_WIDTH:g} wide, **not reproduced** if it excludes it (for a paper proportion of 100% a single
    failed seed excludes it), and **inconclusive** otherwise (too few seeds to tell).
- **Ordering claims** (A better than B on a continuous measure): the probability of improvement P(A > B)
  (Mann-Whitney U / nm, ties count one half) with a percentile bootstrap interval (A's and B's seeds
  resampled independently), and beside it the exact one-sided Mann-Whitney p-value (every split of the
  pooled seeds into the two arms counted; exact with ties). **Reproduced** if the interval lies above 0.5 and
  p(A > B) < {ALPHA:g}; **not reproduced** if the interval lies below 0.5 and p(B > A) < {ALPHA:g};
  **inconclusive** otherwise, and whenever an arm has fewer than {MIN_SEEDS_BOOTSTRAP} seeds (a percentile
  bootstrap interval from so few seeds is too narrow to trust).
- **Comparative claims** (SQL explores better than DDPG on one figure): the two arms' success counts with
  a one-sided Fisher exact test, and the ordering rule above on the figure's continuous measure.
  **Reproduced** if Fisher's p(SQL's rate is higher) < {ALPHA:g} and the ordering is reproduced; **not
  reproduced** if Fisher's p for the reverse is < {ALPHA:g} or the ordering is not reproduced;
  **inconclusive** otherwise. (With 5 seeds per arm only 5/5 against at most 1/5, or 4/5 against 0/5, is
  significant.)
- **Trend claims** (a measure rises or falls across ordered groups, e.g. alpha = 10, 1, 0.1, 0.01): the
  Jonckheere-Terpstra concordance (over pairs of seeds from an earlier and a later group, the fraction that
  follow the claimed trend, ties one half; 0.5 is no trend) with a permutation p-value ({TREND_REPS:,}
  seeded shuffles of the seeds across the groups). **Reproduced** if p for the claimed direction is
  < {ALPHA:g}, **not reproduced** if p for the opposite direction is < {ALPHA:g}, **inconclusive**
  otherwise; **not run** unless every group has runs.
- **Threshold claims** (mean of a diagnostic at least / at most a bound): percentile bootstrap interval of
  the mean over seeds. **Reproduced** if the whole interval is on the claimed side of the bound (bound
  included), **not reproduced** if it is strictly on the other side, **inconclusive** if it straddles the
  bound or there are fewer than {MIN_SEEDS_BOOTSTRAP} seeds.
- **Budget.** A verdict on runs shorter than the paper's budget says so with the fraction, e.g. "not
  reproduced at 0.4% of the paper's budget": it is what our runs show at that budget, not a refutation.
  The paper's budgets are listed below the details.
- **Not run**: no finished runs of the algorithm(s) the claim is about, or none that log its measure.
  Experiments with no runs under this results root are listed as not run (e.g. pretraining and
  fine-tuning under the standard profile's root, which holds multi-goal, swimmer and ant maze only).
- Comparisons whose arms have different seed lists say so in their notes."""


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
    if 0.0 < paper_rate < 1.0 and successes in (0, n):
        return NOT_REPRODUCED  # "only some runs": contradicted by all or none
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
    interval: stats.Interval,
    n_algo: int,
    n_baseline: int,
    mann_whitney: stats.OneSided,
    min_seeds: int = MIN_SEEDS_BOOTSTRAP,
    alpha: float = ALPHA,
) -> str:
    """Ordering: ``interval`` of P(algo > baseline) and the exact Mann-Whitney p-values (``greater``: algo
    better) must agree."""
    if n_algo <= 0 or n_baseline <= 0 or math.isnan(interval.point):
        return NOT_RUN
    if min(n_algo, n_baseline) < min_seeds:
        return INCONCLUSIVE
    if interval.low > 0.5 and mann_whitney.greater < alpha:
        return REPRODUCED
    if interval.high < 0.5 and mann_whitney.less < alpha:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def verdict_compare(fisher: stats.OneSided, ordering: str, alpha: float = ALPHA) -> str:
    """Comparative claim: Fisher's p-values on the success counts (``greater``: SQL's rate higher) and the
    verdict of the ordering on the continuous measure."""
    if ordering == NOT_RUN or math.isnan(fisher.greater):
        return NOT_RUN
    if fisher.less < alpha or ordering == NOT_REPRODUCED:
        return NOT_REPRODUCED
    if fisher.greater < alpha and ordering == REPRODUCED:
        return REPRODUCED
    return INCONCLUSIVE


def verdict_trend(test: stats.OneSided, increasing: bool, alpha: float = ALPHA) -> str:
    """Trend: the permutation p-values (``greater``: an increasing trend) against the claimed direction."""
    if math.isnan(test.greater):
        return NOT_RUN
    claimed, opposite = (test.greater, test.less) if increasing else (test.less, test.greater)
    if claimed < alpha:
        return REPRODUCED
    if opposite < alpha:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def budget_fractions(experiment: str, budget_steps) -> list[float]:
    """Each distinct run budget (total steps) as a fraction of the paper's; [] where the paper has none."""
    paper = PAPER_BUDGETS.get(experiment)
    steps = sorted({float(b) for b in budget_steps if not math.isnan(float(b))})
    return [s / paper.steps for s in steps] if paper else []


def percent(fraction: float) -> str:
    """0.004 -> "0.4%", 0.01 -> "1%", 0.1 -> "10%"."""
    pct = 100.0 * fraction
    return f"{pct:.0f}%" if pct >= 10 else f"{pct:.2g}%"


def verdict_label(verdict: str, fractions: list[float]) -> str:
    """The verdict, with the budget fraction when the runs are shorter than the paper's budget."""
    short = [f for f in fractions if f < 1.0]
    if verdict == NOT_RUN or not short:
        return verdict
    return f"{verdict} at {' / '.join(percent(f) for f in fractions)} of the paper's budget"


# ------------------------------------------------------------------------------------------------
# Evaluating claims on runs

ROBUST, FRAGILE, NOT_APPLICABLE = "robust", "fragile", "n/a"


@dataclass(frozen=True)
class Outcome:
    """A claim row read another way (an alternative measurement, or a fraction of the runs' budget):
    ``verdict`` and ``brief`` as the row's, or ``verdict`` None and ``brief`` why it cannot be read."""

    name: str
    verdict: str | None
    brief: str


@dataclass
class ClaimResult:
    claim: Claim
    verdict: str
    ours: str = "-"  # the full statement of our numbers
    brief: str = "-"  # the same, short, for the summary table
    env: str = "-"
    profile: str = "-"
    subject: str = "-"  # the run label the claim was checked on (e.g. sql or sql_paper)
    preset: str = "-"
    budget: str = "-"
    fractions: list[float] = field(default_factory=list)
    seeds: str = "-"
    commits: str = "-"
    point: float = math.nan
    low: float = math.nan
    high: float = math.nan
    p_value: float = math.nan  # the decisive test's p-value for the claimed direction, where there is one
    n: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Filled by experiments.analysis.robustness and .trajectory: the row under each alternative measurement
    # that applies to it, diagnostics shown beside it, and the row at each fraction of the runs' budget (or
    # why it has no trajectory).
    alternatives: list[Outcome] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    trajectory: list[Outcome] = field(default_factory=list)
    no_trajectory: str = ""

    @property
    def label(self) -> str:
        return verdict_label(self.verdict, self.fractions)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What identifies the row among the claim's results on any runs: claim, env, profile, run label,
        preset."""
        return (self.claim.id, self.env, self.profile, self.subject, self.preset)

    @property
    def robustness(self) -> str:
        """``fragile`` if an alternative that could be read gives another verdict, ``robust`` if every one
        gives the same, ``n/a`` if none applies or can be read."""
        read = [o.verdict for o in self.alternatives if o.verdict is not None]
        if self.verdict == NOT_RUN or not read:
            return NOT_APPLICABLE
        return FRAGILE if any(v != self.verdict for v in read) else ROBUST


def _f(x: float, digits: int = 3) -> str:
    return tables.fmt(x, digits)


def _p(x: float) -> str:
    """A proportion or probability: two decimals."""
    return "n/a" if x is None or math.isnan(x) else f"{x:.2f}"


def _pv(x: float) -> str:
    """A p-value: two significant digits."""
    return "n/a" if math.isnan(x) else f"{x:.2g}"


def _seeds_text(
    vals: pd.DataFrame, algos: tuple[str, ...], result: ClaimResult, labels: tuple[str, ...] | None = None
) -> str:
    """Each arm's seeds (named by ``labels`` where given); notes on ``result`` when the arms' lists differ."""
    parts, lists = [], []
    for algo, label in zip(algos, labels or algos, strict=True):
        seeds = vals.loc[(vals["algo"] == algo) & vals["value"].notna(), "seed"]
        lists.append(tuple(sorted(seeds)))
        parts.append(f"{label}: n={len(seeds)} ({aggregate.describe_seeds(seeds)})")
    if len(lists) > 1 and len(set(lists)) > 1:
        result.notes.append("unequal seed lists")
    return "; ".join(parts)


def _values(runs: pd.DataFrame, algo: str, metric: str, reduction: str, result: ClaimResult) -> np.ndarray:
    """One value per seed of ``algo``; runs lacking the metric are noted on ``result`` and left out."""
    vals = aggregate.run_values(runs, metric, reduction)
    values = vals.loc[vals["algo"] == algo, "value"]
    missing = int(values.isna().sum())
    if missing:
        result.notes.append(f"{missing} {algo} run(s) lack {metric}; left out")
    values = values.dropna().to_numpy(float)
    result.n[algo] = len(values)
    return values


def _ordering(
    a: np.ndarray, b: np.ndarray, higher_is_better: bool, reps: int, seed: int
) -> tuple[stats.Interval, stats.OneSided, str]:
    """P(a better than b) with its bootstrap interval, the exact Mann-Whitney p-values and the verdict."""
    if not (len(a) and len(b)):
        nan = stats.Interval(math.nan, math.nan, math.nan)
        return nan, stats.OneSided(math.nan, math.nan), NOT_RUN
    sa, sb = (a, b) if higher_is_better else (-a, -b)
    ci = stats.probability_of_improvement_ci(sa, sb, reps=reps, confidence=CONFIDENCE, seed=seed)
    mw = stats.mann_whitney_exact(sa, sb)
    return ci, mw, verdict_better(ci, len(a), len(b), mw)


def _ordering_text(
    algo: str, baseline: str, ci: stats.Interval, mw: stats.OneSided, a, b, higher_is_better: bool
) -> str:
    """The ordering's numbers; P is that of ``algo`` being better, so with a lower-is-better measure it
    reads P(algo < baseline)."""
    return (
        f"P({algo} {'>' if higher_is_better else '<'} {baseline}) = {_p(ci.point)} "
        f"({CONFIDENCE:.0%} bootstrap CI [{_p(ci.low)}, {_p(ci.high)}]; "
        f"exact one-sided Mann-Whitney p = {_pv(mw.greater)}, reverse {_pv(mw.less)}); "
        f"means {_f(np.mean(a))} vs {_f(np.mean(b))}"
    )


def _evaluate_rate(spec: RateSpec, runs: pd.DataFrame, label: str, result: ClaimResult) -> None:
    a = _values(runs, label, spec.metric, spec.reduction, result)
    k = int(sum(spec.success(v) for v in a))
    ci = stats.wilson_interval(k, len(a), CONFIDENCE)
    result.point, result.low, result.high = ci.point, ci.low, ci.high
    result.verdict = verdict_rate(k, len(a), spec.paper_rate)
    if len(a):
        result.ours = f"{k}/{len(a)} = {_p(ci.point)} ({CONFIDENCE:.0%} Wilson [{_p(ci.low)}, {_p(ci.high)}])"
        result.brief = f"{k}/{len(a)}"


def _evaluate_mean(
    spec: MeanSpec, runs: pd.DataFrame, label: str, result: ClaimResult, reps: int, seed: int
) -> None:
    a = _values(runs, label, spec.metric, spec.reduction, result)
    ci = stats.bootstrap_ci(a, reps=reps, confidence=CONFIDENCE, seed=seed)
    _, sd, n = stats.mean_std(a)
    result.point, result.low, result.high = ci.point, ci.low, ci.high
    result.verdict = verdict_mean(ci, spec.bound, spec.side, n)
    if n:
        result.ours = (
            f"mean {_f(ci.point)} (sd {_f(sd)}; {CONFIDENCE:.0%} bootstrap CI [{_f(ci.low)}, {_f(ci.high)}])"
        )
        result.brief = f"mean {_f(ci.point)}"


def _evaluate_better(
    spec: BetterSpec, runs: pd.DataFrame, label: str, result: ClaimResult, reps: int, seed: int
) -> None:
    a = _values(runs, label, spec.metric, spec.reduction, result)
    b = _values(runs, spec.baseline, spec.metric, spec.reduction, result)
    ci, mw, result.verdict = _ordering(a, b, spec.higher_is_better, reps, seed)
    if result.verdict != NOT_RUN:
        result.point, result.low, result.high, result.p_value = ci.point, ci.low, ci.high, mw.greater
        result.ours = _ordering_text(label, spec.baseline, ci, mw, a, b, spec.higher_is_better)
        result.brief = f"P = {_p(ci.point)} (p = {_pv(mw.greater)})"


def _evaluate_compare(
    spec: CompareSpec, runs: pd.DataFrame, label: str, result: ClaimResult, reps: int, seed: int
) -> None:
    cond = spec.success_condition
    succ_a = _values(runs, label, cond.metric, cond.reduction, result)
    succ_b = _values(runs, spec.baseline, cond.metric, cond.reduction, result)
    a = _values(runs, label, spec.metric, spec.reduction, result)
    b = _values(runs, spec.baseline, spec.metric, spec.reduction, result)
    ka, kb = (int(sum(cond.success(v) for v in x)) for x in (succ_a, succ_b))
    fisher = stats.fisher_exact(ka, len(succ_a), kb, len(succ_b))
    ci, mw, ordering = _ordering(a, b, spec.higher_is_better, reps, seed)
    result.verdict = verdict_compare(fisher, ordering)
    if result.verdict == NOT_RUN:
        return
    result.point, result.low, result.high, result.p_value = ci.point, ci.low, ci.high, fisher.greater
    counts = f"{ka}/{len(succ_a)} vs {kb}/{len(succ_b)}"
    result.ours = (
        f"{label} {counts} {spec.baseline} seeds with {cond.describe()} (one-sided Fisher p = "
        f"{_pv(fisher.greater)}, reverse {_pv(fisher.less)}); on {spec.reduction} {spec.metric}: "
        f"{_ordering_text(label, spec.baseline, ci, mw, a, b, spec.higher_is_better)}"
    )
    result.brief = f"{counts} (Fisher p = {_pv(fisher.greater)}); P = {_p(ci.point)} (p = {_pv(mw.greater)})"


def _baseline_runs(
    spec, here: pd.DataFrame, preset: str, result: ClaimResult, env: str, profile: str
) -> pd.DataFrame:
    """The baseline's runs beside the subject's: its runs at the same preset, else its only preset (noted)."""
    base = here[here["algo"] == spec.baseline]
    presets = sorted(base["preset"].unique())
    if preset in presets:
        return base[base["preset"] == preset]
    if len(presets) == 1:
        result.notes.append(f"{spec.baseline} runs are preset {presets[0]!r}")
    elif len(presets) > 1:
        result.notes.append(f"{spec.baseline} has several presets {presets}, none {preset!r}; not compared")
        return base.iloc[0:0]
    if len(base) == 0:
        result.notes.append(f"no finished {spec.baseline} runs at {env}, profile {profile}")
    return base


def _finish(result: ClaimResult, claim: Claim, runs: pd.DataFrame) -> None:
    """Budget, its fraction of the paper's and the commits of the runs behind ``result``."""
    per_run = runs.drop_duplicates("run")
    result.budget = aggregate.describe_budget(per_run["budget_steps"])
    result.fractions = budget_fractions(claim.experiment, per_run["budget_steps"])
    if measures.COMMITS in per_run.columns:
        tokens = {t.strip() for text in per_run[measures.COMMITS].dropna() for t in str(text).split(",")}
        result.commits = ", ".join(sorted(t for t in tokens if t)) or "-"
    else:
        result.commits = aggregate.describe_commits(list(per_run["commit"]), list(per_run["dirty"]))


def _evaluate_trend(claim: Claim, sub: pd.DataFrame, reps: int, seed: int) -> list[ClaimResult]:
    spec: TrendSpec = claim.spec
    present = sub[sub["algo"].isin(spec.groups)] if len(sub) else sub
    if len(present) == 0:
        return [ClaimResult(claim, NOT_RUN, notes=[f"no finished runs of {', '.join(spec.groups)}"])]
    results = []
    for env, profile in (
        present[["env", "profile"]].drop_duplicates().sort_values(["env", "profile"]).itertuples(index=False)
    ):
        result = ClaimResult(claim, NOT_RUN, env=env, profile=profile)
        runs = present[(present["env"] == env) & (present["profile"] == profile)]
        vals = aggregate.run_values(runs, spec.metric, spec.reduction)
        cols = [_values(runs, group, spec.metric, spec.reduction, result) for group in spec.groups]
        presets = runs.drop_duplicates(["algo", "preset"]).groupby("algo")["preset"].apply(list)
        result.preset = ", ".join(f"{g} [{'/'.join(presets.get(g, ['-']))}]" for g in spec.groups)
        result.seeds = _seeds_text(vals, spec.groups, result, spec.group_labels)
        _finish(result, claim, runs)
        missing = [label for label, col in zip(spec.group_labels, cols, strict=True) if len(col) == 0]
        several = [g for g in spec.groups if len(presets.get(g, [])) > 1]
        if missing or several:
            result.notes += [f"no finished runs at {m}" for m in missing]
            result.notes += [f"{g} ran with several presets; not pooled" for g in several]
            results.append(result)
            continue
        point, test = stats.trend_test(cols, reps=TREND_REPS, seed=seed)
        concordance, p, p_opposite = (
            (point, test.greater, test.less) if spec.increasing else (1.0 - point, test.less, test.greater)
        )
        result.point, result.p_value = concordance, p
        result.verdict = verdict_trend(test, spec.increasing)
        medians = ", ".join(
            f"{label} {_f(np.median(col))}" for label, col in zip(spec.group_labels, cols, strict=True)
        )
        result.ours = (
            f"concordance with the claimed trend {_p(concordance)} (one-sided permutation p = {_pv(p)}, "
            f"opposite trend {_pv(p_opposite)}); "
            f"medians {medians}"
        )
        result.brief = f"concordance {_p(concordance)} (p = {_pv(p)})"
        results.append(result)
    return results


def evaluate_claim(
    claim: Claim, df: pd.DataFrame, reps: int = stats.DEFAULT_REPS, seed: int = stats.DEFAULT_SEED
) -> list[ClaimResult]:
    """One result per (env, profile, run label, preset) the claim's algorithm ran at; one "not run" result
    if none. Trend claims: one result per (env, profile)."""
    spec = claim.spec
    sub = df[df["experiment"] == claim.experiment] if len(df) else df
    if isinstance(spec, TrendSpec):
        return _evaluate_trend(claim, sub, reps, seed)
    labels = RUN_LABELS.get(spec.algo, (spec.algo,))
    subject = sub[sub["algo"].isin(labels)] if len(sub) else sub
    if len(subject) == 0:
        return [
            ClaimResult(
                claim, NOT_RUN, notes=[f"no finished {spec.algo} runs in experiment {claim.experiment}"]
            )
        ]
    results = []
    combos = subject[["env", "profile", "algo", "preset"]].drop_duplicates()
    envs = sorted(subject["env"].unique())
    for env, profile, label, preset in combos.sort_values(["env", "profile", "algo", "preset"]).itertuples(
        index=False
    ):
        result = ClaimResult(claim, NOT_RUN, env=env, profile=profile, subject=label, preset=preset)
        here = sub[(sub["env"] == env) & (sub["profile"] == profile)]
        parts = [here[(here["algo"] == label) & (here["preset"] == preset)]]
        if isinstance(spec, BetterSpec | CompareSpec):
            parts.append(_baseline_runs(spec, here, preset, result, env, profile))
        if isinstance(spec, BetterSpec) and spec.expected_tasks and len(envs) < spec.expected_tasks:
            result.notes.append(f"only {len(envs)} of the paper's {spec.expected_tasks} tasks run")
        runs = pd.concat(parts)
        arms = (label,) + ((spec.baseline,) if isinstance(spec, BetterSpec | CompareSpec) else ())
        shown = spec.measured()[-1]  # the continuous measure of a comparison
        result.seeds = _seeds_text(aggregate.run_values(runs, shown.metric, shown.reduction), arms, result)
        _finish(result, claim, runs)
        if isinstance(spec, RateSpec):
            _evaluate_rate(spec, runs, label, result)
        elif isinstance(spec, MeanSpec):
            _evaluate_mean(spec, runs, label, result, reps, seed)
        elif isinstance(spec, BetterSpec):
            _evaluate_better(spec, runs, label, result, reps, seed)
        elif isinstance(spec, CompareSpec):
            _evaluate_compare(spec, runs, label, result, reps, seed)
        else:  # pragma: no cover
            raise TypeError(f"unknown spec {type(spec).__name__}")
        measured = spec.measured()[0].metric
        if result.verdict == NOT_RUN and result.n.get(label, 0) == 0 and len(runs):
            result.notes.append(f"no {label} run logs {measured}")
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
                "subject": r.subject,
                "preset": r.preset,
                "verdict": r.verdict,
                "label": r.label,
                "point": r.point,
                "low": r.low,
                "high": r.high,
                "p_value": r.p_value,
                "ours": r.ours,
                "budget_steps": r.budget,
                "budget_fractions": "; ".join(f"{f:.6g}" for f in r.fractions),
                "seeds": r.seeds,
                "commits": r.commits,
                "notes": "; ".join(r.notes),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# The page


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _where(r: ClaimResult, several_envs: bool, several_profiles: bool) -> str:
    """What distinguishes this row from the claim's other rows: env, run label [preset], profile."""
    parts = []
    if several_envs:
        parts.append(r.env.split("/")[-1])
    if r.subject not in ("-", getattr(r.claim.spec, "algo", r.subject)):
        parts.append(f"{r.subject} [{r.preset}]")
    if several_profiles:
        parts.append(r.profile)
    return ", ".join(parts)


def _budget_cell(r: ClaimResult) -> str:
    if r.verdict == NOT_RUN and r.budget == "-":
        return "-"
    if not r.fractions:
        return f"{r.budget} steps"
    return f"{' / '.join(percent(f) for f in r.fractions)} ({r.budget} steps)"


def _ledger_key(experiment: str) -> str:
    return f"ledger: {experiment}"


def render_scorecard(
    results: list[ClaimResult],
    deviations: list[ledger.Deviation],
    problems: list[aggregate.Problem] = (),
    n_runs: int = 0,
    root: str | Path | None = None,
) -> str:
    several_envs = {
        c: len({r.env for r in results if r.claim.id == c}) > 1 for c in {r.claim.id for r in results}
    }
    several_profiles = len({r.profile for r in results if r.profile != "-"}) > 1
    wheres = [_where(r, several_envs[r.claim.id], several_profiles) for r in results]
    sections = [
        _preamble(n_runs),
        _summary(results, wheres),
        _details(results, wheres),
        _robustness_and_trajectory(),
        _paper_budgets(),
        _deviations(results, deviations),
        _left_out(problems, root),
    ]
    return "\n".join(line for section in sections for line in section) + "\n"


def _preamble(n_runs: int) -> list[str]:
    return [
        "# Scorecard: the paper's claims against our runs",
        "",
        "Haarnoja, Tang, Abbeel, Levine, *Reinforcement Learning with Deep Energy-Based Policies*, "
        "ICML 2017.",
        f"Generated by `experiments.analysis.make_scorecard` from {n_runs} finished run(s); "
        "claims are defined in `experiments/claims.py`.",
        "",
        "## Verdict rule",
        "",
        VERDICT_RULE,
        "",
    ]


def _summary(results: list[ClaimResult], wheres: list[str]) -> list[str]:
    """One table per experiment, one row per (claim, where), and the count of each verdict."""
    lines = [
        "## Summary",
        "",
        f"**robust**: every alternative measurement that applies to the row (section "
        f"[{_ALTERNATIVES_TITLE}](#{_anchor(_ALTERNATIVES_TITLE)})) gives the same verdict; **fragile**: at "
        "least one gives another (the details say which); n/a: none applies or can be computed. The "
        "pre-registered verdict stays the verdict.",
        "",
    ]
    rows = list(zip(results, wheres, strict=True))
    for experiment in dict.fromkeys(r.claim.experiment for r in results):
        lines += [
            f"### {experiment}",
            "",
            "| claim | paper | ours | budget (% of the paper's) | seeds | verdict | robust | deviations |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r, where in rows:
            if r.claim.experiment != experiment:
                continue
            claim = r.claim.id + (f" ({where})" if where else "")
            robustness = f"**{r.robustness}**" if r.robustness == FRAGILE else r.robustness
            cells = [
                claim,
                r.claim.paper_value,
                r.brief,
                _budget_cell(r),
                r.seeds,
                f"**{r.label}**",
                robustness,
                _ledger_key(r.claim.experiment),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    fragile = sum(r.robustness == FRAGILE for r in results)
    return [
        *lines,
        "Rows: " + ", ".join(f"{v}: {counts[v]}" for v in VERDICTS) + f"; fragile: {fragile}.",
        "",
    ]


def _details(results: list[ClaimResult], wheres: list[str]) -> list[str]:
    """Per claim: the statement, how it is checked, one entry per (where) with what was found and what the
    alternatives give, and the budget trajectory."""
    lines = ["## Details", ""]
    for claim in dict.fromkeys(r.claim for r in results):
        spec = claim.spec
        lines += [
            f"### {claim.id}",
            "",
            f"{claim.statement} ({claim.source}; paper: {claim.paper_value}.)",
            "",
        ]
        lines.append(f"Checked as: {spec.condition()}.")
        extra = f" Paper's proportion: {spec.paper_rate:g}." if isinstance(spec, RateSpec) else ""
        per_run = "; ".join(dict.fromkeys(tables.protocol(m.metric, m.reduction) for m in spec.measured()))
        lines += [f"Per run: {per_run}.{extra}", ""]
        own = [(r, where) for r, where in zip(results, wheres, strict=True) if r.claim is claim]
        for r, where in own:
            lines += _detail(r, where)
        lines += ["", *_trajectory_table(own), ""]
    return lines


def _detail(r: ClaimResult, where: str) -> list[str]:
    head = f"**{where}**: " if where else ""
    text = f"- {head}**{r.label}**. Ours: {r.ours}."
    if r.verdict != NOT_RUN or r.seeds != "-":
        text += f" Seeds: {r.seeds}. Profile {r.profile}, preset {r.preset}; budget {_budget_cell(r)}."
        text += f" Commits: {r.commits}."
    if r.notes:
        text += f" Notes: {'; '.join(dict.fromkeys(r.notes))}."
    lines = [text]
    if r.verdict != NOT_RUN:
        lines.append(f"  - Robustness: **{r.robustness}**. {_alternatives_text(r)}")
    lines += [f"  - {d}" for d in r.diagnostics]
    return lines


def _alternatives_text(r: ClaimResult) -> str:
    if not r.alternatives:
        return "No alternative measurement applies."
    parts = []
    for o in r.alternatives:
        if o.verdict is None:
            parts.append(f"{o.name}: unavailable ({o.brief})")
        else:
            flips = " (**flips**)" if o.verdict != r.verdict else ""
            parts.append(f"{o.name}: {o.verdict}{flips}, {o.brief}")
    return "; ".join(parts) + "."


def _trajectory_table(rows: list[tuple[ClaimResult, str]]) -> list[str]:
    """The claim's budget trajectory: one table row per fraction of the runs' own budget, one column per
    (where) that has one; one line for those without, with why."""
    lines = []
    run = [(r, where) for r, where in rows if r.verdict != NOT_RUN]
    without = [(r, where) for r, where in run if not r.trajectory]
    for reason in dict.fromkeys(r.no_trajectory for r, _ in without):
        named = [where for r, where in without if r.no_trajectory == reason]
        scope = f" ({', '.join(named)})" if any(named) and len(named) < len(run) else ""
        lines.append(f"Budget trajectory{scope}: n/a: {reason}.")
    with_trajectory = [(r, where) for r, where in run if r.trajectory]
    if not with_trajectory:
        return lines
    if lines:
        lines.append("")
    names = [where or r.subject for r, where in with_trajectory]
    lines += [
        "Budget trajectory (the same check on the first k% of every run's own budget):",
        "",
        "| % of the runs' budget | " + " | ".join(_cell(n) for n in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for index, outcome in enumerate(with_trajectory[0][0].trajectory):
        cells = [outcome.name]
        for r, _ in with_trajectory:
            o = r.trajectory[index]
            cells.append(o.brief if o.verdict is None else f"{o.brief}: {o.verdict}")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


_ALTERNATIVES_TITLE = "Alternative measurements and budget trajectory"


def _anchor(title: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def _robustness_and_trajectory() -> list[str]:
    """The alternatives (experiments/claims.py), and which experiments have a budget trajectory."""
    lines = [
        f"## {_ALTERNATIVES_TITLE}",
        "",
        "Fixed in `experiments/claims.py` (ALTERNATIVES) before any was computed on the runs. Each claim row "
        "is checked again under every alternative that changes a measure or condition it reads, by the "
        "same rule; the row is **fragile** if any gives another verdict.",
        "",
        *(f"- **{a.name}**: {a.description}. Why: {a.why}." for a in ALTERNATIVES),
        "",
        "Budget trajectory: each claim row checked by the same rule on the first "
        f"{', '.join(percent(f) for f in TRAJECTORY_FRACTIONS)} of every run's own budget (its per-epoch "
        "rows up to that step, the run-level measures recomputed from them), only for the experiments whose "
        "training does not depend on the total budget, where the first k% of a run is the run a budget of "
        "k% would have made. Measures read from the final artifacts exist for the final policy only. "
        "Those experiments and why:",
        "",
        *(f"- {name}: {why}." for name, why in BUDGET_INDEPENDENT_SCHEDULES.items()),
        "",
        "The figures `figures/<experiment>_budget_trajectory.png` draw each arm's success rate against steps "
        "(Wilson bands, the paper's rate as a line).",
        "",
    ]
    return lines


def _paper_budgets() -> list[str]:
    return [
        "## The paper's budgets",
        "",
        "A row's budget fraction is its runs' total environment steps over these.",
        "",
        *(f"- {name}: {b.steps:,} steps: {b.source}." for name, b in PAPER_BUDGETS.items()),
    ]


def _deviations(results: list[ClaimResult], deviations: list[ledger.Deviation]) -> list[str]:
    """Which ledger entries apply to which experiment, then each entry once."""
    lines = ["", "## Deviations from the paper", ""]
    experiments = list(dict.fromkeys(r.claim.experiment for r in results))
    chosen = ledger.applicable(deviations, experiments)
    if not chosen:
        return [*lines, "None recorded in experiments/deviations.yaml for these experiments."]
    everywhere = [d.id for d in chosen if "all" in d.applies_to]
    lines += [
        "Which entries of `experiments/deviations.yaml` apply where (the summary's deviations column):",
        "",
    ]
    if everywhere:
        lines.append(f"- **every experiment**: {', '.join(everywhere)}")
    for experiment in experiments:
        own = [d.id for d in chosen if "all" not in d.applies_to and d.applies(experiment)]
        also = " and the entries for every experiment" if everywhere else ""
        lines.append(f"- **{_ledger_key(experiment)}**: {', '.join(own) or 'no entries of its own'}{also}")
    lines += ["", "Each entry once:", ""]
    for d in chosen:
        lines.append(
            f"- **{d.id}** (applies to: {', '.join(d.applies_to)}): ours: {d.ours} "
            f"Paper: {d.paper} Why: {d.why}"
        )
    return lines


def _left_out(problems: list[aggregate.Problem], root: str | Path | None) -> list[str]:
    lines = ["", "## Runs left out or flagged", ""]
    if not problems:
        lines.append("None.")
    lines += [f"- {p.describe(root)}" for p in sorted(problems, key=lambda p: p.path.as_posix())]
    return lines


def write_scorecard(
    results: list[ClaimResult],
    out_path: str | Path,
    deviations: list[ledger.Deviation] | None = None,
    problems: list[aggregate.Problem] = (),
    n_runs: int = 0,
    root: str | Path | None = None,
) -> None:
    """Write the Markdown scorecard of ``results`` (:func:`evaluate_claims`, with their alternatives and
    trajectories where :mod:`experiments.analysis.robustness` and :mod:`~experiments.analysis.trajectory`
    added them) to ``out_path``."""
    deviations = ledger.load_deviations() if deviations is None else deviations
    text = render_scorecard(results, deviations, problems, n_runs=n_runs, root=root)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(text.encode("utf-8"))
