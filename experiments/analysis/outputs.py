"""The analysis layer's entry points for the CLI (:mod:`experiments.analysis` lists them): tables, the
scorecard and the generic figures of the runs under a results root."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from experiments.analysis import FIGURES, TABLES
from experiments.analysis.aggregate import Problem, load_runs
from experiments.analysis.figure_specs import DEFAULT_FIGURE_FORMATS
from experiments.analysis.stats import DEFAULT_REPS, DEFAULT_SEED


def make_tables(
    root: str | Path,
    out_dir: str | Path,
    specs=None,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    deviations_path: str | Path | None = None,
) -> tuple[list[Path], list[Problem]]:
    """Tables of every experiment under ``root/runs`` into ``<out_dir>/tables``.

    ``specs``: list of :class:`experiments.analysis.tables.TableSpec` (default: one per experiment present,
    from :func:`~experiments.analysis.tables.default_table_spec`). Returns (written paths, problems).
    """
    from experiments.analysis import ledger, measures, tables, zoo

    df, problems = load_runs(root)
    df = measures.add_run_measures(df, root)
    deviations = ledger.load_deviations(deviations_path)
    paths = tables.write_tables(df, Path(out_dir) / TABLES, specs, deviations, reps=reps, seed=seed)
    paths += zoo.write_zoo_tables(df, root, Path(out_dir) / TABLES, deviations, reps=reps, seed=seed)
    return paths, problems


def make_scorecard(
    root: str | Path,
    out_path: str | Path,
    claims=None,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    deviations_path: str | Path | None = None,
):
    """Evaluate the paper's claims (``experiments.claims.CLAIMS`` by default) on the finished runs under
    ``root/runs``, each row also under the alternative measurements and on fractions of the runs' budget,
    and write the Markdown scorecard to ``out_path``. Returns (claim results, problems)."""
    from experiments.analysis import aggregate, ledger, measures, robustness, scorecard, trajectory
    from experiments.claims import CLAIMS

    runs, problems = load_runs(root)
    finals = measures.read_final_artifacts(runs, root) if len(runs) else {}
    measured = measures.add_run_measures(runs, finals=finals)
    results = scorecard.evaluate_claims(measured, CLAIMS if claims is None else claims, reps=reps, seed=seed)
    robustness.check_robustness(results, runs, finals, measured, reps=reps, seed=seed)
    trajectory.check_trajectories(results, runs, reps=reps, seed=seed)
    n_runs = int(runs[list(aggregate.RUN_KEY)].drop_duplicates().shape[0]) if len(runs) else 0
    deviations = ledger.load_deviations(deviations_path)
    scorecard.write_scorecard(results, out_path, deviations, problems, n_runs=n_runs, root=root)
    return results, problems


def make_generic_figures(
    root: str | Path,
    out_dir: str | Path,
    figure_specs=None,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    formats: Sequence[str] = DEFAULT_FIGURE_FORMATS,
) -> tuple[list[Path], list[Problem]]:
    """Generic figures into ``<out_dir>/figures``. ``figure_specs``: list of
    :class:`experiments.analysis.plots.FigureSpec` (default: a deployed-return
    curve per experiment); ``formats``: ``png`` and/or ``pdf``. Returns (written paths, problems)."""
    from experiments.analysis import plots

    df, problems = load_runs(root)
    paths = plots.write_figures(
        df, Path(out_dir) / FIGURES, figure_specs, reps=reps, seed=seed, formats=formats
    )
    return paths, problems


def make_budget_trajectory_figures(
    root: str | Path,
    out_dir: str | Path,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    formats: Sequence[str] = DEFAULT_FIGURE_FORMATS,
) -> tuple[list[Path], list[Problem]]:
    """``<out_dir>/figures/<experiment>_budget_trajectory.<format>`` for each experiment under ``root/runs``
    whose claims have a budget trajectory (:mod:`experiments.analysis.trajectory`). Returns (written paths,
    problems)."""
    from experiments.analysis import plots

    df, problems = load_runs(root)
    paths = plots.write_budget_trajectory_figures(
        df, Path(out_dir) / FIGURES, reps=reps, seed=seed, formats=formats
    )
    return paths, problems
