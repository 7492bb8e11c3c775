"""Tables in Markdown, CSV and LaTeX (booktabs), each with its protocol, seeds, budget, commits and the
deviation-ledger entries that apply to its experiment.

Table builders return DataFrames (numbers and the text columns that go into files); :func:`write_table`
renders one to ``<base>.md``, ``<base>.csv`` and ``<base>.tex`` deterministically (same inputs, same bytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import layout
from experiments.algorithms import BASELINES
from experiments.analysis import aggregate, ledger, measures, stats
from experiments.claims import CLAIMS, OPS, RUN_MEASURES, BetterSpec, Condition

CONFIDENCE = 0.95


def fmt(x, digits: int = 3) -> str:
    """Fixed, locale-free number formatting with about ``digits`` significant digits; NaN -> "n/a"."""
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = min(6, max(0, digits - 1 - mag))
    return f"{x:.{decimals}f}"


def _p(x) -> str:
    """A proportion or probability: two decimals."""
    return "n/a" if x is None or math.isnan(float(x)) else f"{float(x):.2f}"


def protocol(metric: str, reduction: str | aggregate.Reduction) -> str:
    """How one run becomes one number: a run-level measure's definition, else the reduction of the curve."""
    if metric in RUN_MEASURES:
        return f"{metric} = {RUN_MEASURES[metric]}"
    return aggregate.Reduction.parse(reduction).describe(metric)


def _commits_by_run(df: pd.DataFrame) -> dict[tuple, str] | None:
    """Run key -> every commit the run ran under (from measures.add_run_measures), or None without it."""
    if measures.COMMITS not in df.columns or len(df) == 0:
        return None
    runs = df.drop_duplicates(list(aggregate.RUN_KEY))
    return dict(
        zip(
            runs[list(aggregate.RUN_KEY)].itertuples(index=False, name=None),
            runs[measures.COMMITS],
            strict=True,
        )
    )


def _describe_commits(g: pd.DataFrame, commits_by_run: dict[tuple, str] | None) -> str:
    """The commits of the runs in ``g`` (rows of run_values): all of each run's where known, else its
    launch."""
    if commits_by_run is None:
        return aggregate.describe_commits(list(g["commit"]), list(g["dirty"]))
    keys = g[list(aggregate.RUN_KEY)].itertuples(index=False, name=None)
    tokens = {t.strip() for key in keys for t in str(commits_by_run.get(key, "")).split(",")}
    return ", ".join(sorted(t for t in tokens if t)) or "-"


def _stats_note(reps: int, seed: int) -> str:
    return (
        f"Per run one value (protocol column); then mean ± sample std (ddof=1) over seeds and a "
        f"{CONFIDENCE:.0%} percentile bootstrap interval of the mean over seeds ({reps} resamples, generator "
        f"seed {seed}; with fewer than about 5 seeds this interval is too narrow)."
    )


# ------------------------------------------------------------------------------------------------
# Builders


def summary_table(
    df: pd.DataFrame,
    metric: str,
    reduction: str = "final",
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> pd.DataFrame:
    """Per (experiment, env, algo, profile, preset) that logs ``metric``: mean, std (ddof 1), bootstrap CI, n,
    seeds, budget, commits."""
    red = aggregate.Reduction.parse(reduction)
    vals = aggregate.run_values(df, metric, red)
    commits = _commits_by_run(df)
    rows = []
    for key, g in vals.groupby(list(aggregate.GROUP_KEY), sort=True):
        v = g["value"].dropna().to_numpy(float)
        if len(v) == 0:
            continue
        mean, std, n = stats.mean_std(v)
        ci = stats.bootstrap_ci(v, reps=reps, confidence=CONFIDENCE, seed=seed)
        rows.append(
            {
                **dict(zip(aggregate.GROUP_KEY, key, strict=True)),
                "metric": metric,
                "reduction": red.label,
                "protocol": protocol(metric, red),
                "n": n,
                "seeds": aggregate.describe_seeds(g.loc[g["value"].notna(), "seed"]),
                "mean": mean,
                "std": std,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "budget_steps": aggregate.describe_budget(g["budget_steps"]),
                "commits": _describe_commits(g, commits),
            }
        )
    return pd.DataFrame(rows)


def per_run_table(df: pd.DataFrame, metrics: tuple[MetricSpec, ...]) -> pd.DataFrame:
    """One row per run (configuration and seed) and one column per reduced metric of ``metrics`` that any of
    these runs logged: what each seed did, where a summary over seeds would hide it."""
    parts = [
        aggregate.run_values(df, m.metric, m.reduction).rename(columns={"value": _column(m)})
        for m in metrics
        if m.metric in df.columns and df[m.metric].notna().any()
    ]
    if not parts:
        return pd.DataFrame()
    keys = list(aggregate.RUN_KEY)
    t = parts[0][keys + ["budget_steps", parts[0].columns[-1]]]
    for part in parts[1:]:
        t = t.merge(part[keys + [part.columns[-1]]], on=keys, how="outer")
    return t.sort_values(keys, kind="mergesort").reset_index(drop=True)


def _column(m: MetricSpec) -> str:
    return m.metric if m.reduction == "final" else f"{m.metric} ({m.reduction})"


def success_table(
    df: pd.DataFrame, metric: str, reduction: str, op: str, threshold: float, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Per configuration: seeds whose reduced metric satisfies ``metric <op> threshold``, rate, Wilson CI."""
    red = aggregate.Reduction.parse(reduction)
    vals = aggregate.run_values(df, metric, red)
    commits = _commits_by_run(df)
    rows = []
    for key, g in vals.groupby(list(aggregate.GROUP_KEY), sort=True):
        v = g["value"].dropna().to_numpy(float)
        if len(v) == 0:
            continue
        k = int(sum(bool(OPS[op](x, threshold)) for x in v))
        ci = stats.wilson_interval(k, len(v), confidence)
        rows.append(
            {
                **dict(zip(aggregate.GROUP_KEY, key, strict=True)),
                "metric": metric,
                "reduction": red.label,
                "condition": f"{red.label} {metric} {op} {threshold:g}",
                "successes": k,
                "n": len(v),
                "seeds": aggregate.describe_seeds(g.loc[g["value"].notna(), "seed"]),
                "rate": ci.point,
                "wilson_low": ci.low,
                "wilson_high": ci.high,
                "budget_steps": aggregate.describe_budget(g["budget_steps"]),
                "commits": _describe_commits(g, commits),
            }
        )
    return pd.DataFrame(rows)


def improvement_table(
    df: pd.DataFrame,
    metric: str,
    reduction: str = "final",
    algo: str = "sql",
    baselines: tuple[str, ...] | None = BASELINES,
    higher_is_better: bool = True,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> pd.DataFrame:
    """Probability of improvement of ``algo`` over each baseline present, per (experiment, env, profile) and
    per pair of presets (algorithms usually have their own presets, e.g. sql "code" against ddpg "paper").

    ``baselines=None``: every other algorithm present.
    """
    red = aggregate.Reduction.parse(reduction)
    vals = aggregate.run_values(df, metric, red).dropna(subset=["value"])
    rows = []
    keys = ["experiment", "env", "profile"]
    for key, g in vals.groupby(keys, sort=True):
        mine = g[g["algo"] == algo]
        if len(mine) == 0:
            continue
        others = sorted(set(g["algo"]) - {algo}) if baselines is None else [b for b in baselines if b != algo]
        for base in others:
            theirs = g[g["algo"] == base]
            for pa, ga in mine.groupby("preset", sort=True):
                for pb, gb in theirs.groupby("preset", sort=True):
                    a, b = ga["value"].to_numpy(float), gb["value"].to_numpy(float)
                    sa, sb = (a, b) if higher_is_better else (-a, -b)
                    ci = stats.probability_of_improvement_ci(
                        sa, sb, reps=reps, confidence=CONFIDENCE, seed=seed
                    )
                    rows.append(
                        {
                            **dict(zip(keys, key, strict=True)),
                            "algo": algo,
                            "algo_preset": pa,
                            "baseline": base,
                            "baseline_preset": pb,
                            "metric": metric,
                            "reduction": red.label,
                            "protocol": protocol(metric, red)
                            + ("" if higher_is_better else " (lower is better)"),
                            "n_algo": len(a),
                            "n_baseline": len(b),
                            "poi": ci.point,
                            "ci_low": ci.low,
                            "ci_high": ci.high,
                            "budget_steps": aggregate.describe_budget(pd.concat([ga, gb])["budget_steps"]),
                        }
                    )
    return pd.DataFrame(rows)


def task_scores(
    df: pd.DataFrame,
    metric: str,
    reduction: str = "final",
    bounds: dict[str, tuple[float, float]] | None = None,
) -> tuple[dict[str, list[np.ndarray]], list[str], str]:
    """Per algo, per env (task), the per-run reduced metric, normalised per task to [0, 1].

    Normalisation: ``bounds[env] = (low, high)`` where given, else the min and max over all runs of all
    algorithms on that task. Returns (algo -> list of per-task arrays, task names, normalisation text).
    Only algorithms that ran on every task are kept. Pass one profile at a time; an algorithm run with
    several presets becomes one entry per preset ("algo (preset)").
    """
    vals = aggregate.run_values(aggregate.label_configs(df), metric, reduction).dropna(subset=["value"])
    tasks = sorted(vals["env"].unique())
    scores: dict[str, list[np.ndarray]] = {}
    for algo, g in vals.groupby("algo", sort=True):
        if set(g["env"]) != set(tasks):
            continue
        cols = []
        for t in tasks:
            allv = vals.loc[vals["env"] == t, "value"].to_numpy(float)
            lo, hi = (bounds or {}).get(t, (float(allv.min()), float(allv.max())))
            cols.append(stats.minmax_normalise(g.loc[g["env"] == t, "value"].to_numpy(float), lo, hi))
        scores[str(algo)] = cols
    how = (
        "scores normalised per task to [0, 1] by the given bounds"
        if bounds
        else "scores normalised per task to [0, 1] by the min and max over all runs of all algorithms on it"
    )
    return scores, tasks, how


def iqm_table(
    df: pd.DataFrame,
    metric: str,
    reduction: str = "final",
    bounds: dict[str, tuple[float, float]] | None = None,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> pd.DataFrame:
    """IQM across tasks (envs) with stratified-bootstrap intervals, one row per (profile, algo); profiles
    with fewer than 2 tasks are left out."""
    red = aggregate.Reduction.parse(reduction)
    rows = []
    for profile, part in df.groupby("profile", sort=True):
        scores, tasks, how = task_scores(part, metric, reduction, bounds)
        if len(tasks) < 2 or not scores:
            continue
        ivals = stats.stratified_bootstrap_ci(
            scores, stats.aggregate_iqm, reps=reps, confidence=CONFIDENCE, seed=seed
        )
        for algo in sorted(scores):
            iv = ivals[algo]
            rows.append(
                {
                    "profile": profile,
                    "algo": algo,
                    "metric": metric,
                    "reduction": red.label,
                    "tasks": ", ".join(tasks),
                    "runs": int(sum(len(c) for c in scores[algo])),
                    "iqm": iv.point,
                    "ci_low": iv.low,
                    "ci_high": iv.high,
                    "normalisation": how,
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# Rendering


@dataclass
class Rendered:
    """What goes into one table's three files."""

    title: str
    frame: pd.DataFrame  # raw numbers, written to CSV
    display: pd.DataFrame  # strings, written to Markdown and LaTeX
    notes: list[str] = field(default_factory=list)
    experiment: str = ""


def _display_summary(t: pd.DataFrame) -> pd.DataFrame:
    pct = f"{CONFIDENCE:.0%} CI"
    return pd.DataFrame(
        {
            "env": t["env"],
            "algo": t["algo"],
            "profile (preset)": t["profile"] + " (" + t["preset"] + ")",
            "metric": t["metric"],
            "protocol": t["reduction"],
            "mean ± std": [f"{fmt(m)} ± {fmt(s)}" for m, s in zip(t["mean"], t["std"], strict=True)],
            pct: [f"[{fmt(lo)}, {fmt(hi)}]" for lo, hi in zip(t["ci_low"], t["ci_high"], strict=True)],
            "n": t["n"].astype(str),
            "seeds": t["seeds"],
            "budget (steps)": t["budget_steps"],
            "commit(s)": t["commits"],
        }
    )


def _display_per_run(t: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "env": t["env"],
            "algo": t["algo"],
            "profile (preset)": t["profile"] + " (" + t["preset"] + ")",
            "seed": t["seed"].astype(str),
            "budget (steps)": [f"{int(b):,}" for b in t["budget_steps"]],
        }
    )
    for column in t.columns[len(aggregate.RUN_KEY) + 1 :]:
        out[column] = [fmt(v) for v in t[column]]
    return out


def _display_success(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "env": t["env"],
            "algo": t["algo"],
            "profile (preset)": t["profile"] + " (" + t["preset"] + ")",
            "success condition": t["condition"],
            "successes / n": [f"{k}/{n}" for k, n in zip(t["successes"], t["n"], strict=True)],
            "rate": [_p(r) for r in t["rate"]],
            f"{CONFIDENCE:.0%} Wilson": [
                f"[{_p(lo)}, {_p(hi)}]" for lo, hi in zip(t["wilson_low"], t["wilson_high"], strict=True)
            ],
            "seeds": t["seeds"],
            "budget (steps)": t["budget_steps"],
            "commit(s)": t["commits"],
        }
    )


def _display_improvement(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "env": t["env"],
            "profile": t["profile"],
            "comparison": [
                f"P({a} [{pa}] > {b} [{pb}])"
                for a, pa, b, pb in zip(
                    t["algo"], t["algo_preset"], t["baseline"], t["baseline_preset"], strict=True
                )
            ],
            "metric": t["metric"],
            "protocol": t["reduction"],
            "P(improvement)": [_p(p) for p in t["poi"]],
            f"{CONFIDENCE:.0%} CI": [
                f"[{_p(lo)}, {_p(hi)}]" for lo, hi in zip(t["ci_low"], t["ci_high"], strict=True)
            ],
            "n (algo, baseline)": [f"{a}, {b}" for a, b in zip(t["n_algo"], t["n_baseline"], strict=True)],
            "budget (steps)": t["budget_steps"],
        }
    )


def _display_iqm(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "profile": t["profile"],
            "algo": t["algo"],
            "metric": t["metric"],
            "protocol": t["reduction"],
            "tasks": t["tasks"],
            "runs": t["runs"].astype(str),
            "IQM": [fmt(v) for v in t["iqm"]],
            f"{CONFIDENCE:.0%} CI": [
                f"[{fmt(lo)}, {fmt(hi)}]" for lo, hi in zip(t["ci_low"], t["ci_high"], strict=True)
            ],
        }
    )


def _md_cell(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def to_markdown(display: pd.DataFrame) -> str:
    cols = list(display.columns)
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in display.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines)


_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
}


def tex_escape(text) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(text))


def to_latex(display: pd.DataFrame, caption: str, notes: list[str], label: str) -> str:
    cols = list(display.columns)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        r"\scriptsize",
        r"\caption{" + tex_escape(caption) + "}",
        r"\label{" + label + "}",
        r"\begin{tabular}{" + "l" * len(cols) + "}",
        r"\toprule",
        " & ".join(tex_escape(c) for c in cols) + r" \\",
        r"\midrule",
    ]
    for row in display.itertuples(index=False):
        lines.append(" & ".join(tex_escape(v) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines.append(r"\par\smallskip\parbox{\linewidth}{\raggedright\tiny")
        lines.append(r"\\ ".join(tex_escape(n) for n in notes))
        lines.append("}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def _deviation_notes(deviations: list[ledger.Deviation], experiment: str) -> list[str]:
    chosen = ledger.applicable(deviations, experiment)
    if not chosen:
        return [f"Deviations from the paper for {experiment}: none recorded in experiments/deviations.yaml."]
    out = [f"Deviations from the paper for {experiment} (experiments/deviations.yaml):"]
    out += [f"[{d.id}] ours: {d.ours} Paper: {d.paper} Why: {d.why}" for d in chosen]
    return out


def write_table(rendered: Rendered, base: str | Path, deviations: list[ledger.Deviation]) -> list[Path]:
    """Write ``<base>.md``, ``<base>.csv`` (notes as leading ``# `` comment lines; read back with
    ``pd.read_csv(path, comment="#")``) and ``<base>.tex``. Returns the paths."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    dev_notes = _deviation_notes(deviations, rendered.experiment)
    md = [f"# {rendered.title}", ""]
    for n in rendered.notes:
        md += [n, ""]
    md += [to_markdown(rendered.display), ""]
    md += [dev_notes[0], ""] + [f"- {n}" for n in dev_notes[1:]]
    md_text = "\n".join(md).rstrip("\n") + "\n"
    comments = [f"# {rendered.title}"] + [f"# {n}" for n in rendered.notes + dev_notes]
    csv_body = rendered.frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    csv_text = "\n".join(c.replace("\n", " ") for c in comments) + "\n" + csv_body
    label = "tab:" + base.name.replace("_", "-")
    tex_text = to_latex(rendered.display, rendered.title + ". " + " ".join(rendered.notes), dev_notes, label)
    paths = []
    for suffix, text in ((".md", md_text), (".csv", csv_text), (".tex", tex_text)):
        path = base.with_suffix(suffix)
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


# ------------------------------------------------------------------------------------------------
# What tables each experiment gets


@dataclass(frozen=True)
class MetricSpec:
    metric: str
    reduction: str = "final"
    higher_is_better: bool = True


@dataclass(frozen=True)
class TableSpec:
    """The tables of one experiment: a summary over ``metrics``, success rates for ``successes``,
    probability of improvement of ``algo`` over ``baselines`` (None: every other algo present) on
    ``improvement`` metrics, and an IQM table across envs for ``iqm`` metrics when >= 2 envs ran."""

    experiment: str
    metrics: tuple[MetricSpec, ...]
    successes: tuple[Condition, ...] = ()
    improvement: tuple[MetricSpec, ...] = ()
    algo: str = "sql"
    baselines: tuple[str, ...] | None = BASELINES
    iqm: tuple[MetricSpec, ...] = ()
    per_run: tuple[tuple[MetricSpec, str], ...] = ()  # (metric, what it is)


GENERIC_METRICS = (
    MetricSpec(layout.EVAL_RETURN_DEPLOYED, "final"),
    MetricSpec(layout.EVAL_RETURN_EXPLORING, "final"),
)


@dataclass(frozen=True)
class Headline:
    """What an experiment beyond the paper (no claims) reports: its own ``metrics``, and ``algo`` against
    ``baselines`` on them."""

    metrics: tuple[MetricSpec, ...]
    algo: str
    baselines: tuple[str, ...]


# Composition's headline: the fraction of rollouts ending at the shared goal, of the composed policy against
# each constituent (experiments/composition.py).
HEADLINES: dict[str, Headline] = {
    "composition": Headline(
        (MetricSpec("shared_goal_fraction", "final"),), "composed", ("constituent_a", "constituent_b")
    ),
}


# Per-run tables: what each seed did, beside the summaries over seeds, as (metric, what it is). The
# swimmer's show whether its agents swim: where the deployed policy ends, and how much of the centre-of-mass
# path that the velocity reward paid for (sum |v_x| dt) is net travel (1: one way; near 0: back and forth).
PER_RUN: dict[str, tuple[tuple[MetricSpec, str], ...]] = {
    "swimmer": (
        (MetricSpec("max_forward_x", "final"), "farthest forward centre-of-mass x since training began (m)"),
        (
            MetricSpec("eval_end_x_deployed", "final"),
            "mean final centre-of-mass x of the deployed policy's evaluation episodes (m)",
        ),
        (
            MetricSpec("eval_travel_ratio_deployed", "final"),
            "sum |net centre-of-mass x displacement| / sum centre-of-mass x path length over those episodes",
        ),
        (
            MetricSpec("epoch_travel", "final"),
            "mean net centre-of-mass x displacement of the last epoch's training episodes (m)",
        ),
        (MetricSpec("epoch_path", "final"), "their mean centre-of-mass x path length (m)"),
        (
            MetricSpec("epoch_travel_ratio", "final"),
            "sum |net displacement| / sum path length of those training episodes",
        ),
        (MetricSpec(layout.EVAL_RETURN_DEPLOYED, "final"), "the deployed policy's mean evaluation return"),
    ),
    "pretrain": (
        (
            MetricSpec("distance_deployed", "final"),
            "mean planar distance from the start at the end of the deployed policy's evaluation episodes (m)",
        ),
        (MetricSpec("path_deployed", "final"), "their mean planar centre-of-mass path (m; v1 runs)"),
        (
            MetricSpec("travel_ratio_deployed", "final"),
            "sum of those distances / sum of those paths: how much of the speed paid went somewhere",
        ),
        (MetricSpec("distance_exploring", "final"), "the same distance for the policy as it acts (m)"),
        (MetricSpec("travel_ratio_exploring", "final"), "and its travel ratio (v1 runs)"),
        (MetricSpec(layout.EVAL_RETURN_DEPLOYED, "final"), "the deployed policy's mean evaluation return"),
    ),
    "finetune": (
        (
            MetricSpec("travel_x_deployed", "final"),
            "mean centre-of-mass x displacement of the deployed policy's evaluation episodes (m; the "
            "hallways run along x)",
        ),
        (MetricSpec("distance_deployed", "final"), "their mean planar distance from the start (m)"),
        (MetricSpec("path_deployed", "final"), "their mean planar centre-of-mass path (m)"),
        (
            MetricSpec("travel_ratio_deployed", "final"),
            "sum of those distances / sum of those paths: how much of the speed paid went somewhere",
        ),
        (
            MetricSpec("length_deployed", "final"),
            "their mean length (steps; below the 500-step horizon when the torso left its healthy height)",
        ),
        (
            MetricSpec("min_distance_to_target_deployed", "final"),
            "U-maze: the torso's closest approach to the target, mean over those episodes (m; 6 at start)",
        ),
        (
            MetricSpec(layout.EVAL_DISCOUNTED_RETURN_DEPLOYED, "final"),
            "the deployed policy's mean discounted evaluation return (Fig. 5's measure)",
        ),
    ),
}


def default_table_spec(experiment: str, claims=CLAIMS) -> TableSpec:
    """Generic returns plus every (metric, reduction) the experiment's claims use (or its headline)."""
    metrics = list(GENERIC_METRICS)
    successes = []
    algo, baselines = "sql", BASELINES
    headline = HEADLINES.get(experiment)
    if headline is not None:
        metrics += [m for m in headline.metrics if m not in metrics]
        algo, baselines = headline.algo, headline.baselines
    for c in claims:
        if c.experiment != experiment:
            continue
        for measured in c.spec.measured():
            m = MetricSpec(measured.metric, measured.reduction, measured.higher_is_better)
            if m not in metrics:
                metrics.append(m)
        for condition in c.spec.conditions():
            if condition not in successes:
                successes.append(condition)
        if isinstance(c.spec, BetterSpec):
            algo, baselines = c.spec.algo, None
    return TableSpec(
        experiment=experiment,
        metrics=tuple(metrics),
        successes=tuple(successes),
        improvement=tuple(metrics),
        algo=algo,
        baselines=baselines,
        iqm=tuple(metrics),
        per_run=PER_RUN.get(experiment, ()),
    )


def experiment_tables(
    df: pd.DataFrame, spec: TableSpec, reps: int = stats.DEFAULT_REPS, seed: int = stats.DEFAULT_SEED
) -> dict[str, Rendered]:
    """name -> Rendered for one experiment (tables with no rows are omitted)."""
    sub = df[df["experiment"] == spec.experiment]
    out: dict[str, Rendered] = {}
    if len(sub) == 0:
        return out
    exp = spec.experiment
    parts = [
        summary_table(sub, m.metric, m.reduction, reps, seed) for m in spec.metrics if m.metric in sub.columns
    ]
    parts = [p for p in parts if len(p)]
    if parts:
        t = pd.concat(parts, ignore_index=True)
        protocols = sorted(set(zip(t["reduction"], t["protocol"], strict=True)))
        notes = [_stats_note(reps, seed)]
        notes += [f"Protocol {r}: {p}." for r, p in protocols]
        notes.append(
            "Evaluation: *_deployed columns evaluate the deterministic policy, *_exploring the policy as it "
            "acts while exploring, at the end of each epoch; 'final' is the last epoch of the run."
        )
        out[f"{exp}_summary"] = Rendered(
            f"{exp}: per-configuration summary over seeds", t, _display_summary(t), notes, exp
        )
    parts = [
        success_table(sub, s.metric, s.reduction, s.op, s.threshold)
        for s in spec.successes
        if s.metric in sub.columns
    ]
    parts = [p for p in parts if len(p)]
    if parts:
        t = pd.concat(parts, ignore_index=True)
        notes = [
            f"Success rate over seeds with a {CONFIDENCE:.0%} Wilson score interval. "
            "A run succeeds if its reduced metric meets the condition (max: at any evaluation during "
            "training; final: at the last evaluation, or the run-level measure's value, see the summary's "
            "protocol)."
        ]
        out[f"{exp}_success"] = Rendered(f"{exp}: success rates", t, _display_success(t), notes, exp)
    parts = [
        improvement_table(
            sub, m.metric, m.reduction, spec.algo, spec.baselines, m.higher_is_better, reps, seed
        )
        for m in spec.improvement
        if m.metric in sub.columns
    ]
    parts = [p for p in parts if len(p)]
    if parts:
        t = pd.concat(parts, ignore_index=True)
        notes = [
            "Probability of improvement P(X > Y) = P(a random run of X scores higher than one of Y) "
            "+ 0.5 P(tie) (Mann-Whitney U / nm; for lower-is-better metrics, 'higher' means lower), "
            f"with a {CONFIDENCE:.0%} percentile bootstrap interval (runs of X and Y resampled "
            f"independently; {reps} resamples, generator seed {seed})."
        ]
        out[f"{exp}_improvement"] = Rendered(
            f"{exp}: probability of improvement", t, _display_improvement(t), notes, exp
        )
    if spec.per_run:
        t = per_run_table(sub, tuple(m for m, _ in spec.per_run))
        if len(t):
            notes = ["One row per run; every column is the run's value at its last epoch."]
            notes += [f"{_column(m)}: {what}." for m, what in spec.per_run if _column(m) in t]
            out[f"{exp}_per_run"] = Rendered(f"{exp}: per run", t, _display_per_run(t), notes, exp)
    if sub["env"].nunique() >= 2:
        parts = []
        for m in spec.iqm:
            if m.metric not in sub.columns:
                continue
            t = iqm_table(
                sub if m.higher_is_better else _negated(sub, m.metric),
                m.metric,
                m.reduction,
                reps=reps,
                seed=seed,
            )
            if len(t):
                parts.append(t)
        if parts:
            t = pd.concat(parts, ignore_index=True)
            notes = [
                f"Interquartile mean across tasks (envs) of per-run scores, {t['normalisation'].iloc[0]} "
                "(lower-is-better metrics negated first), with "
                f"{CONFIDENCE:.0%} stratified-bootstrap intervals (runs resampled within each task; {reps} "
                f"resamples, generator seed {seed}). With few tasks these intervals are wide; see the "
                "per-task summary too."
            ]
            out[f"{exp}_iqm"] = Rendered(f"{exp}: IQM across tasks", t, _display_iqm(t), notes, exp)
    return out


def _negated(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    df = df.copy()
    df[metric] = -df[metric]
    return df


def write_tables(
    df: pd.DataFrame,
    out_dir: str | Path,
    specs: list[TableSpec] | None = None,
    deviations: list[ledger.Deviation] | None = None,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> list[Path]:
    """Write every experiment's tables to ``out_dir`` (``<experiment>_<kind>.{md,csv,tex}``)."""
    deviations = ledger.load_deviations() if deviations is None else deviations
    if specs is None:
        experiments = sorted(df["experiment"].unique()) if len(df) else []
        specs = [default_table_spec(e) for e in experiments]
    paths: list[Path] = []
    for spec in specs:
        for name, rendered in sorted(experiment_tables(df, spec, reps, seed).items()):
            paths += write_table(rendered, Path(out_dir) / name, deviations)
    return paths
