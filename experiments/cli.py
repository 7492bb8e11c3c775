"""``python -m experiments list | run | reproduce | status | plot | tables | verify``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments import layout
from experiments.config import PROFILES, ConfigError
from experiments.launchers import LAUNCHERS, launch
from experiments.registry import EXPERIMENTS, dependency_order, figure_specs, get_experiment
from experiments.runner import CorruptRunError, RunSpec, read_manifest


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except (ConfigError, CorruptRunError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def add(name: str, func, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(command=func)
        p.add_argument("--out", default="results", help="results root (default: results)")
        return p

    add("list", cmd_list, "list experiments, their algorithms, presets and budgets per profile")
    for name, func, help in (
        ("run", cmd_run, "run (or resume) the runs of one experiment; finished runs are skipped"),
        ("reproduce", cmd_reproduce, "run what is missing, then write figures, tables and the scorecard"),
        ("status", cmd_status, "show which runs are finished, partial or missing"),
    ):
        p = add(name, func, help)
        p.add_argument("experiments", nargs="+" if name == "run" else "*", metavar="EXPERIMENT",
                       help=f"one of {sorted(EXPERIMENTS)}" + ("" if name == "run" else " (default: all)"))
        p.add_argument("--profile", default="quick", choices=PROFILES, help="budget profile (default: quick)")
        p.add_argument("--algos", help="comma-separated algorithms (default: all of the experiment's)")
        p.add_argument("--seeds", help="comma-separated seeds (default: the profile's seed list)")
        p.add_argument("--envs", help="comma-separated env ids (default: all of the experiment's)")
        if name != "status":
            p.add_argument("--preset", help="hyperparameter preset (default: each algorithm's default for the task)")
            p.add_argument("--workers", type=int, default=2, help="parallel runs on the local launcher (default: 2)")
            p.add_argument("--launcher", default="local", choices=LAUNCHERS, help="local process pool or ray")
            p.add_argument("--address", help="Ray cluster address (with --launcher ray), e.g. 10.0.0.1:6379")
    for name, func, help in (
        ("plot", cmd_plot, "figures from existing runs (trains nothing)"),
        ("tables", cmd_tables, "tables from existing runs (trains nothing)"),
        ("verify", cmd_verify, "the scorecard of the paper's claims from existing runs (trains nothing)"),
    ):
        add(name, func, help)
    return parser


def _experiments(args) -> list[str]:
    """The requested experiments (default: all), ordered so that an experiment comes after those whose
    runs it starts from (``init_from``)."""
    names = args.experiments or [  # by default, every experiment that has the profile
        name for name in sorted(EXPERIMENTS) if getattr(args, "profile", None) in (None, *get_experiment(name).config.profiles)
    ]
    for name in names:
        get_experiment(name)  # validate early
    return [name for stage in dependency_order(names) for name in stage]


def _specs(args, names: list[str] | None = None) -> list[RunSpec]:
    """Every (experiment, env, algo, seed) requested. ``env`` is set only for experiments with several envs."""
    specs = []
    for name in names if names is not None else _experiments(args):
        experiment = get_experiment(name)
        config = experiment.config
        budget = config.budget(args.profile)
        algos = _split(args.algos) or list(budget.algo_seeds) or experiment.algos
        seeds = [int(s) for s in _split(args.seeds)]
        envs = _split(getattr(args, "envs", None)) or list(config.envs)
        unknown = [env for env in envs if env not in config.envs]
        if unknown:
            raise ConfigError(f"unknown env(s) {unknown} for {name}; valid envs: {list(config.envs)}")
        for algo in algos:
            config.hyperparameters(algo, getattr(args, "preset", None))  # validate early
        multi_env = len(config.envs) > 1
        specs += [
            RunSpec(name, algo, seed, args.profile, env=env if multi_env else None, preset=getattr(args, "preset", None))
            for env in envs
            for algo in algos
            for seed in seeds or budget.seeds_for(algo)
        ]
    return specs


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def cmd_list(args) -> int:
    for name, experiment in sorted(EXPERIMENTS.items()):
        config = experiment.config
        print(f"{name}  ({experiment.paper_figures})  env{'s' if len(config.envs) > 1 else ''} {', '.join(config.envs)}")
        print(f"  {experiment.description}")
        for algo, spec in config.algos.items():
            init = config.init_from(algo)
            extra = f" (starts from {init.experiment}/{init.algo} [{init.preset}] of the same seed)" if init else ""
            print(f"  algo {algo:5s} presets {sorted(spec['presets'])} (default {spec['default']}){extra}")
        for profile, budget in config.profiles.items():
            print(f"  profile {profile:6s} {budget.n_epochs} epochs x {budget.steps_per_epoch} steps, seeds {list(budget.seeds)}")
    return 0


def cmd_run(args) -> int:
    """Runs in stages by dependency (a stage's runs start only when the runs they start from finished),
    then each experiment's finalize step (e.g. composition)."""
    names = _experiments(args)
    specs = _specs(args, names)  # validates every request before anything runs
    outcomes = []
    for stage in dependency_order(names):
        stage_specs = [spec for spec in specs if spec.experiment in stage]
        outcomes += launch(stage_specs, args.out, launcher=args.launcher, workers=args.workers, address=args.address)
    for outcome in sorted(outcomes, key=lambda o: str(o.folder)):
        print(f"{outcome.status:9s} {outcome.folder}")
    for name in names:
        finalize = get_experiment(name).finalize
        if finalize is not None:
            seeds = [int(s) for s in _split(args.seeds)] or None
            for line in finalize(Path(args.out), args.profile, seeds):
                print(line)
    return 0


def cmd_reproduce(args) -> int:
    from experiments import analysis

    cmd_run(args)
    cmd_plot(args)
    cmd_tables(args)
    cmd_verify(args)
    out = Path(args.out)
    print(f"figures:   {out / analysis.FIGURES}\ntables:    {out / analysis.TABLES}\nscorecard: {out / analysis.SCORECARD}")
    return 0


def cmd_status(args) -> int:
    counts = {"finished": 0, "partial": 0, "missing": 0, "corrupt": 0}
    for spec in _specs(args):
        env_id = spec.env or get_experiment(spec.experiment).config.env
        folder = layout.run_dir(args.out, spec.experiment, env_id, spec.algo, spec.seed)
        try:
            manifest = read_manifest(folder)
        except CorruptRunError as error:
            state, detail = "corrupt", str(error)
        else:
            if manifest is None:
                state, detail = "missing", ""
            elif manifest["status"] == layout.STATUS_FINISHED:
                state, detail = "finished", f"profile {manifest['profile']}"
            else:
                state, detail = "partial", f"profile {manifest['profile']}, {_epochs_done(folder)} epochs written"
        counts[state] += 1
        env = f"{layout.env_slug(spec.env)}/" if spec.env else ""
        print(f"{state:9s} {spec.experiment}/{env}{spec.algo}/seed_{spec.seed}  {detail}")
    print(", ".join(f"{n} {state}" for state, n in counts.items()))
    return 0


def _epochs_done(folder: Path) -> int:
    path = folder / layout.PROGRESS
    return max(0, len(path.read_text().splitlines()) - 1) if path.exists() else 0


def _report(problems) -> None:
    for problem in problems:
        print(f"left out: {problem}", file=sys.stderr)


def cmd_plot(args) -> int:
    from experiments import analysis

    out = Path(args.out)
    paths, problems = analysis.make_generic_figures(out, out, figure_specs())
    for experiment in EXPERIMENTS.values():
        for figure in experiment.figures:
            paths += figure(out, out / analysis.FIGURES, getattr(args, "profile", None))
    _report(problems)
    print(f"{len(paths)} figure files in {out / analysis.FIGURES}")
    return 0


def cmd_tables(args) -> int:
    from experiments import analysis

    paths, problems = analysis.make_tables(args.out, args.out)
    _report(problems)
    print(f"{len(paths)} table files in {Path(args.out) / analysis.TABLES}")
    return 0


def cmd_verify(args) -> int:
    from experiments import analysis

    out = Path(args.out) / analysis.SCORECARD
    analysis.make_scorecard(args.out, out)
    print(f"scorecard: {out}")
    return 0
