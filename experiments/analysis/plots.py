"""Generic figures from the tidy run table (seaborn on matplotlib's Agg canvas; headless, no pyplot state).

Every figure's title block carries a caption line with the profile(s), preset(s), budget (steps) and seeds
per algorithm. Figures are saved as PNG and PDF with fixed metadata, so the same data gives the same bytes.

- :func:`plot_seed_lines`: one line per seed, colour per algorithm, optional reference line (Fig. 3a/3b).
- :func:`plot_seed_bands`: one small panel per seed (rows) x algorithm (columns), band between two columns,
  optional reference line (Fig. 6).
- :func:`plot_mean_std`: mean +- 1 std over seeds per algorithm, one panel per env (Fig. 5).
- :func:`plot_rliable`: IQM with stratified-bootstrap intervals and a performance profile across tasks.
- :func:`plot_budget_trajectory`: each arm's success rate against steps over the first 10%, ..., 100% of
  its budget (:mod:`experiments.analysis.trajectory`), with Wilson bands and the paper's rate.
"""

from __future__ import annotations

import math
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

# Figures here draw on an explicit Agg canvas whatever the backend; also make Agg the default when nobody
# has chosen one yet (seaborn imports pyplot). Never switch a backend someone else already uses.
if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments import layout  # noqa: E402
from experiments.algorithms import ALGORITHMS  # noqa: E402
from experiments.analysis import aggregate, stats, tables, trajectory  # noqa: E402
from experiments.analysis.figure_specs import (  # noqa: E402
    DEFAULT_FIGURE_FORMATS,
    FIGURE_FORMATS,
    FigureSpec,
    generic_return_specs,
)

PNG_METADATA = {"Software": None}
PDF_METADATA = {"CreationDate": None, "ModDate": None}
DPI = 150

# Fixed colours so a learner looks the same in every figure. Fine-tuning's ``<learner>_scratch`` and
# ``<learner>_pretrained`` take their learner's colour and differ in line style (``algo_linestyle``), so
# "DDPG pretrained vs DDPG scratch" reads at a glance.
_PALETTE = sns.color_palette("colorblind", 10)
_LEARNER_COLOURS = {name: _PALETTE[algorithm.colour] for name, algorithm in ALGORITHMS.items()}
_SCRATCH, _PRETRAINED = "_scratch", "_pretrained"


def _learner(algo: str) -> str:
    """'ddpg_scratch' -> 'ddpg', 'sac_pretrained' -> 'sac'; other names unchanged."""
    return algo.removesuffix(_SCRATCH).removesuffix(_PRETRAINED)


def algo_colours(algos) -> dict[str, tuple]:
    """A colour per algo label: its learner's (:data:`experiments.algorithms.ALGORITHMS`), else the next
    palette colour no learner uses, in sorted order of the labels."""
    out, spare = {}, 1 + max(algorithm.colour for algorithm in ALGORITHMS.values())
    for a in sorted(set(algos)):
        if _learner(a) in _LEARNER_COLOURS:
            out[a] = _LEARNER_COLOURS[_learner(a)]
        else:
            out[a] = _PALETTE[spare % len(_PALETTE)]
            spare += 1
    return out


def learner_order(algos) -> list[str]:
    """Algo labels in :data:`experiments.algorithms.ALGORITHMS`'s order of their learners, a learner's
    own label before its arms' (``sql``, ``sql_paper``, ``ddpg``, ``sac``); unknown learners last, sorted."""
    learners = list(ALGORITHMS)

    def key(label: str) -> tuple[int, str]:
        ranks = [i for i, name in enumerate(learners) if label == name or label.startswith(name + "_")]
        return (ranks[0] if ranks else len(learners), label)

    return sorted(set(algos), key=key)


def algo_linestyle(algo: str) -> str:
    """Dashed for runs that start from scratch next to pretrained ones (``*_scratch``), solid otherwise."""
    return "--" if algo.endswith(_SCRATCH) else "-"


def caption(df: pd.DataFrame) -> str:
    """'profile: quick | budget: 10,000 steps | seeds: ddpg [paper] n=5 (0-4); sql [code] n=5 (0-4)'.

    Each algorithm shows its preset(s) in brackets. With several envs, n is the number of seeds per env
    (a range if it differs between envs).
    """
    if len(df) == 0:
        return "no runs"
    runs = df[list(aggregate.RUN_KEY) + ["budget_steps"]].drop_duplicates(subset=list(aggregate.RUN_KEY))
    profiles = ", ".join(sorted(runs["profile"].unique()))
    parts = []
    for algo, g in runs.groupby("algo", sort=True):
        counts = g.groupby(["env", "preset"])["seed"].nunique()
        n = f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"
        presets = sorted(g["preset"].unique())
        tag = "" if str(algo).endswith(f"({presets[0]})") else f" [{', '.join(presets)}]"
        parts.append(f"{algo}{tag} n={n} ({aggregate.describe_seeds(g['seed'])})")
    n_env = runs["env"].nunique()
    per = f" per env ({n_env} envs)" if n_env > 1 else ""
    budget = aggregate.describe_budget(runs["budget_steps"])
    text = f"profile: {profiles} | budget: {budget} steps | seeds{per}: {'; '.join(parts)}"
    if "status" in df.columns:
        unfinished = df.loc[df["status"] != layout.FINISHED, list(aggregate.RUN_KEY)].drop_duplicates()
        if len(unfinished):
            text += f" | includes {len(unfinished)} unfinished run(s)"
    return text


def new_figure(width: float, height: float) -> Figure:
    """An empty figure on the Agg canvas (no pyplot state), laid out with constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def suptitle_with_caption(fig: Figure, title: str, df: pd.DataFrame) -> None:
    """``title`` and the :func:`caption` of the runs in ``df`` as the figure's title, wrapped to its width."""
    width = max(40, int(fig.get_figwidth() * 15))
    text = "\n".join(textwrap.wrap(title, width) + textwrap.wrap(caption(df), width))
    fig.suptitle(text, fontsize=8)


def save_figure(fig: Figure, base: str | Path, formats: Sequence[str] = DEFAULT_FIGURE_FORMATS) -> list[Path]:
    """Save ``<base>.<format>`` for each of ``formats`` (``png``, ``pdf``) with fixed metadata
    (byte-stable). PNG is the default and what results/ commits; PDF on request (``plot --format pdf``)."""
    unknown = [f for f in formats if f not in FIGURE_FORMATS]
    if unknown or not formats:
        raise ValueError(f"figure formats must be some of {list(FIGURE_FORMATS)}, got {list(formats)}")
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = base.with_suffix(f".{fmt}")
        if fmt == "png":
            fig.savefig(path, format="png", dpi=DPI, metadata=PNG_METADATA)
        else:
            fig.savefig(path, format="pdf", metadata=PDF_METADATA)
        paths.append(path)
    return paths


def _ref_line(ax, ref: float | None, ref_label: str | None, horizontal: bool = True) -> None:
    if ref is None:
        return
    ax.axhline(ref, color="red", linestyle="--", linewidth=1.0, label=ref_label or f"{ref:g}")


def _envs(df: pd.DataFrame) -> list[str]:
    return sorted(df["env"].unique())


def _panels_per_env(df: pd.DataFrame, panel_width: float):
    """A figure with one panel per env of ``df`` side by side: (envs, figure, axes, colour per algo)."""
    envs = _envs(df)
    fig = new_figure(panel_width * len(envs), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(envs), squeeze=False)[0])
    return envs, fig, axes, algo_colours(df["algo"])


def plot_seed_lines(
    df: pd.DataFrame,
    metric: str,
    *,
    x: str = layout.STEP,
    ref: float | None = None,
    ref_label: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """One line per (algo, seed) of ``metric`` against ``x``, colour per algo; one panel per env."""
    envs, fig, axes, colours = _panels_per_env(df, panel_width=5.0)
    for ax, env in zip(axes, envs, strict=True):
        d = df[(df["env"] == env) & df[metric].notna()]
        sns.lineplot(
            data=d,
            x=x,
            y=metric,
            hue="algo",
            units="seed",
            estimator=None,
            palette=colours,
            ax=ax,
            linewidth=1.0,
            alpha=0.85,
            sort=True,
        )
        _ref_line(ax, ref, ref_label)
        ax.set_title(env, fontsize=8)
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel or metric)
        ax.legend(fontsize=7)
    suptitle_with_caption(fig, title or f"{metric}: one line per seed", df)
    return fig


def plot_seed_bands(
    df: pd.DataFrame,
    low: str,
    high: str,
    *,
    x: str = layout.STEP,
    ref: float | None = None,
    ref_label: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """One small panel per seed (rows) and algo (columns): a band from ``low`` to ``high`` against ``x``."""
    algos = sorted(df["algo"].unique())
    seeds = sorted(df["seed"].unique())
    env_note = ", ".join(_envs(df))
    fig = new_figure(3.6 * len(algos), 0.9 * len(seeds) + 1.2)
    axes = fig.subplots(len(seeds), len(algos), squeeze=False, sharex=True, sharey=True)
    colours = algo_colours(algos)
    for j, algo in enumerate(algos):
        for i, seed in enumerate(seeds):
            ax = axes[i, j]
            d = df[(df["algo"] == algo) & (df["seed"] == seed)].sort_values(x)
            if len(d):
                ax.fill_between(d[x], d[low], d[high], color=colours[algo], alpha=0.5, linewidth=0.5)
            else:
                ax.text(0.5, 0.5, "no run", transform=ax.transAxes, ha="center", va="center", fontsize=7)
            _ref_line(ax, ref, ref_label)
            ax.axhline(0.0, color="grey", linewidth=0.5)
            ax.tick_params(labelsize=6)
            if i == 0:
                ax.set_title(algo, fontsize=8)
            if j == 0:
                ax.set_ylabel(f"seed {seed}", fontsize=7)
        axes[-1, j].set_xlabel(x, fontsize=7)
    if ref is not None and ref_label:
        axes[0, 0].legend(fontsize=6, loc="upper left")
    suptitle_with_caption(
        fig, title or f"band {low} .. {high} per seed ({env_note})" + (f"; {ylabel}" if ylabel else ""), df
    )
    return fig


def plot_mean_std(
    df: pd.DataFrame,
    metric: str,
    *,
    x: str = layout.STEP,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Mean +- 1 std over seeds of ``metric`` against ``x`` per algo (shaded), one panel per env."""
    envs, fig, axes, colours = _panels_per_env(df, panel_width=4.6)
    for ax, env in zip(axes, envs, strict=True):
        d = df[(df["env"] == env) & df[metric].notna()]
        for algo, g in d.groupby("algo", sort=True):
            s = g.groupby(x, sort=True)[metric].agg(["mean", "std", "count"])
            s["std"] = s["std"].fillna(0.0)
            ax.plot(
                s.index,
                s["mean"],
                color=colours[algo],
                linestyle=algo_linestyle(algo),
                linewidth=1.2,
                label=f"{algo} (n={g['seed'].nunique()})",
            )
            ax.fill_between(
                s.index,
                s["mean"] - s["std"],
                s["mean"] + s["std"],
                color=colours[algo],
                alpha=0.25,
                linewidth=0,
            )
        ax.set_title(env, fontsize=8)
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel or metric)
        if ax.get_legend_handles_labels()[0]:  # a panel whose env has no values of the metric has no curves
            ax.legend(fontsize=7)
    suptitle_with_caption(fig, title or f"{metric}: mean ± 1 std over seeds", df)
    return fig


def plot_rliable(
    df: pd.DataFrame,
    metric: str,
    reduction: str = "final",
    *,
    bounds: dict[str, tuple[float, float]] | None = None,
    higher_is_better: bool = True,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
    title: str | None = None,
) -> Figure | None:
    """IQM across tasks (envs) with stratified-bootstrap 95% intervals, and a run-score performance profile.

    Returns None when fewer than two tasks (envs) have runs of at least one algorithm on all of them.
    """
    d = df if higher_is_better else df.assign(**{metric: -df[metric]})
    scores, tasks, how = tables.task_scores(d, metric, reduction, bounds)
    if len(tasks) < 2 or not scores:
        return None
    algos = sorted(scores)
    colours = algo_colours(algos)
    ivals = stats.stratified_bootstrap_ci(scores, stats.aggregate_iqm, reps=reps, seed=seed)
    taus = np.linspace(0.0, 1.0, 101)
    profiles = stats.performance_profile(scores, taus, reps=reps, seed=seed)
    fig = new_figure(9.0, 0.5 * len(algos) + 2.8)
    ax_iqm, ax_prof = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    for i, algo in enumerate(algos):
        iv = ivals[algo]
        ax_iqm.plot(
            [iv.low, iv.high], [i, i], color=colours[algo], linewidth=6, alpha=0.6, solid_capstyle="butt"
        )
        ax_iqm.plot([iv.point], [i], marker="|", color="black", markersize=14)
        prof, lo, hi = profiles[algo]
        ax_prof.plot(taus, prof, color=colours[algo], linestyle=algo_linestyle(algo), label=algo)
        ax_prof.fill_between(taus, lo, hi, color=colours[algo], alpha=0.2, linewidth=0)
    ax_iqm.set_yticks(range(len(algos)), algos)
    ax_iqm.set_xlabel("IQM of normalised score (95% stratified bootstrap CI)", fontsize=7)
    ax_iqm.set_ylim(-0.7, len(algos) - 0.3)
    ax_prof.set_xlabel(r"normalised score $\tau$", fontsize=7)
    ax_prof.set_ylabel(r"fraction of runs with score > $\tau$", fontsize=7)
    ax_prof.legend(fontsize=7)
    red = aggregate.Reduction.parse(reduction)
    note = f"{red.describe(metric)}; {how}" + ("" if higher_is_better else "; lower is better (negated)")
    ax_iqm.set_title(f"tasks: {', '.join(tasks)}", fontsize=6)
    ax_prof.set_title(note, fontsize=6, wrap=True)
    suptitle_with_caption(
        fig, title or f"{metric} across {len(tasks)} tasks: IQM and performance profile", df
    )
    return fig


# ------------------------------------------------------------------------------------------------
# Specs


def render_spec(
    spec: FigureSpec, df: pd.DataFrame, reps: int = stats.DEFAULT_REPS, seed: int = stats.DEFAULT_SEED
):
    """The figure for ``spec`` from ``df`` (one profile; see :func:`aggregate.label_configs` for presets),
    or None if there is no data for it."""
    d = df[df["experiment"] == spec.experiment]
    if spec.envs is not None:
        d = d[d["env"].isin(spec.envs)]
    if spec.algos is not None:  # match "sql" and its relabelled "sql (code)"
        d = d[d["algo"].str.split(" (", regex=False).str[0].isin(spec.algos)]
    if len(d) == 0 or any(c not in d.columns or d[c].notna().sum() == 0 for c in spec.columns()):
        return None
    if spec.kind == "seed_lines":
        return plot_seed_lines(
            d, spec.metric, ref=spec.ref, ref_label=spec.ref_label, title=spec.title, ylabel=spec.ylabel
        )
    if spec.kind == "seed_bands":
        return plot_seed_bands(
            d,
            spec.low,
            spec.high,
            ref=spec.ref,
            ref_label=spec.ref_label,
            title=spec.title,
            ylabel=spec.ylabel,
        )
    if spec.kind == "mean_std":
        return plot_mean_std(d, spec.metric, title=spec.title, ylabel=spec.ylabel)
    if spec.kind == "rliable":
        return plot_rliable(
            d,
            spec.metric,
            spec.reduction,
            higher_is_better=spec.higher_is_better,
            reps=reps,
            seed=seed,
            title=spec.title,
        )
    raise ValueError(f"unknown figure kind {spec.kind!r}")


def slug(text: str) -> str:
    """``text`` as a file-name part (e.g. a profile in ``<figure>__<profile>.png``)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)


def write_figures(
    df: pd.DataFrame,
    out_dir: str | Path,
    specs=None,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
    formats: Sequence[str] = DEFAULT_FIGURE_FORMATS,
) -> list[Path]:
    """Render ``specs`` (default: a return curve per experiment; the experiments' own figure specs live in
    ``experiments.registry``) into ``out_dir``.

    Runs of different profiles are never mixed in one figure: with one profile in an experiment the file is
    ``<name>.<format>``, with several ``<name>__<profile>.<format>``. An algorithm run with several presets
    gets one curve set per preset (labelled "algo (preset)"). Specs without data are skipped.
    """
    if specs is None:
        experiments = sorted(df["experiment"].unique()) if len(df) else []
        specs = generic_return_specs(experiments)
    paths: list[Path] = []
    for spec in specs:
        d = df[df["experiment"] == spec.experiment] if len(df) else df
        if len(d) == 0:
            continue
        profiles = sorted(d["profile"].unique())
        for profile in profiles:
            part = d[d["profile"] == profile]
            fig = render_spec(spec, aggregate.label_configs(part), reps=reps, seed=seed)
            if fig is None:
                continue
            name = spec.name if len(profiles) == 1 else f"{spec.name}__{slug(profile)}"
            paths += save_figure(fig, Path(out_dir) / name, formats)
    return paths


def plot_budget_trajectory(panels: list[trajectory.Panel], experiment: str, df: pd.DataFrame) -> Figure:
    """An experiment's budget trajectory (:func:`experiments.analysis.trajectory.trajectory_panels`): per env,
    one panel per success condition (each arm's success rate against steps with its Wilson band, the
    paper's rate as a dashed line of the arm's colour) or per measure (each arm's mean with a bootstrap
    band)."""
    cells = [(panel, env) for panel in panels for env in sorted(panel.rows["env"].unique())]
    fig = new_figure(4.2 * min(len(cells), 3), 3.4 * math.ceil(len(cells) / 3) + 0.6)
    grid = fig.subplots(math.ceil(len(cells) / 3), min(len(cells), 3), squeeze=False)
    order = learner_order(pd.concat([panel.rows["arm"] for panel in panels]))
    colours = algo_colours(order)
    several_envs = len({env for _, env in cells}) > 1
    for ax, (panel, env) in zip(grid.ravel(), cells, strict=False):
        rows = panel.rows[panel.rows["env"] == env]
        lines = rows.groupby(["arm", "profile", "preset"], sort=False)
        several = lines.ngroups > rows["arm"].nunique()
        for (arm, profile, preset), line in sorted(lines, key=lambda item: order.index(item[0][0])):
            line = line.sort_values("steps")
            style = {"color": colours[arm], "linestyle": algo_linestyle(arm)}
            label = f"{arm} ({profile}, {preset})" if several else arm
            ax.plot(line["steps"], line["point"], marker="o", markersize=2.5, label=label, **style)
            ax.fill_between(line["steps"], line["low"], line["high"], color=colours[arm], alpha=0.15)
            if arm in panel.paper:
                ax.axhline(panel.paper[arm], color=colours[arm], linestyle="--", linewidth=1.0)
        if panel.rate:
            ax.set_ylim(-0.03, 1.03)
        where = f"{env.split('/')[-1]}: " if several_envs else ""
        ax.set_title(
            where + panel.title + ("\n(dashed: the paper's rate)" if panel.paper else ""), fontsize=8
        )
        ax.set_xlabel(layout.STEP)
        ax.set_ylabel("success rate (95% Wilson)" if panel.rate else "mean over seeds (95% bootstrap)")
        ax.legend(fontsize=7)
    for ax in grid.ravel()[len(cells) :]:
        ax.set_visible(False)
    suptitle_with_caption(
        fig,
        f"{experiment}: each claim's success condition (or measure) on the first 10%, 20%, ..., 100% of "
        "every run's budget",
        df,
    )
    return fig


def write_budget_trajectory_figures(
    df: pd.DataFrame,
    out_dir: str | Path,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
    formats: Sequence[str] = DEFAULT_FIGURE_FORMATS,
) -> list[Path]:
    """``<experiment>_budget_trajectory`` for each experiment of ``df`` that has one (one file per profile,
    named as :func:`write_figures` names them)."""
    paths: list[Path] = []
    for experiment in sorted(df["experiment"].unique()) if len(df) else []:
        d = df[df["experiment"] == experiment]
        profiles = sorted(d["profile"].unique())
        for profile in profiles:
            part = d[d["profile"] == profile]
            panels = trajectory.trajectory_panels(part, experiment, reps=reps, seed=seed)
            if not panels:
                continue
            name = f"{experiment}_budget_trajectory" + ("" if len(profiles) == 1 else f"__{slug(profile)}")
            paths += save_figure(
                plot_budget_trajectory(panels, experiment, part), Path(out_dir) / name, formats
            )
    return paths
