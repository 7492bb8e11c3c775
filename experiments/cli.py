"""python -m experiments COMMAND: list the experiments, run or resume their runs, show their status,
regenerate figures, tables and the scorecard from finished runs, or all of it at once (reproduce).

Bad input (an unknown name, a bad seed list, an --out that is a file or read-only, a corrupt run folder)
is answered with one line per problem and exit code 2, before any run starts or any folder is made.
Runs that fail exit with 1; SIGTERM or Ctrl-C with 128 + the signal's number, the interrupted runs left
resumable.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from experiments import layout
from experiments.analysis.figure_specs import DEFAULT_FIGURE_FORMATS, FIGURE_FORMATS
from experiments.config import PROFILES, ConfigError
from experiments.launchers import (
    LAUNCHERS,
    Interrupted,
    RunsFailedError,
    StepProgress,
    interrupt_on_sigterm,
    launch,
)
from experiments.layout import CorruptRunError, RunFolderError
from experiments.run_files import find_run_dirs, read_manifest_file

if (
    TYPE_CHECKING
):  # the runner and the registry import torch, gymnasium and SB3: only commands that train load them
    from experiments.runner import RunSpec, RunState

DESCRIPTION = """\
The benchmark suite of softq-repro: run the paper's experiments (and resume them), show their status, and
turn their finished runs into figures, tables and a scorecard. Run "python -m experiments COMMAND --help"
for a command's options."""


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad command line is answered in one line (exit code 2), without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with interrupt_on_sigterm():
            return args.command(args)
    except (ConfigError, RunFolderError, ValueError) as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except RunsFailedError as error:
        for line in str(error).splitlines():
            print(f"failed: {line}", file=sys.stderr)
        print("finished runs are kept; run the same command again to resume the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
        print(
            f"interrupted ({signal.Signals(signum).name}): the runs in progress stopped and resume from "
            "their last checkpoint when the same command is run again",
            file=sys.stderr,
        )
        return 128 + signum


def _parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m experiments",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def add(name: str, func, help: str, out_help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(command=func)
        p.add_argument("--out", type=Path, help=out_help)
        return p

    add("list", cmd_list, "list experiments, their algorithms, presets and budgets per profile", "unused")
    run_out = "results root (default: results for the quick profile, results/<profile> for the others)"
    for name, func, help in (
        ("run", cmd_run, "run (or resume) the runs of one or more experiments; finished runs are skipped"),
        (
            "reproduce",
            cmd_reproduce,
            "write the figures, tables and scorecard of every profile under --out from its "
            "finished runs, deleting those outputs they no longer produce; report the runs still missing, "
            "and train them with --train",
        ),
        (
            "status",
            cmd_status,
            "show which runs are finished, partial, missing or corrupt, and the extra runs on disk",
        ),
    ):
        p = add(name, func, help, run_out)
        p.add_argument(
            "experiments",
            nargs="+" if name == "run" else "*",
            metavar="EXPERIMENT",
            help="experiment name, see the list command" + ("" if name == "run" else " (default: all)"),
        )
        p.add_argument(
            "--profile",
            default=layout.MAIN_PROFILE,
            choices=PROFILES,
            help=f"budget profile (default: {layout.MAIN_PROFILE})",
        )
        p.add_argument("--algos", help="comma-separated algorithms (default: all of the experiment's)")
        p.add_argument(
            "--seeds", help="comma-separated seeds, integers >= 0 (default: the profile's seed lists)"
        )
        p.add_argument("--envs", help="comma-separated env ids (default: all of the experiment's)")
        if name != "status":
            p.add_argument(
                "--preset", help="hyperparameter preset (default: each algorithm's default for the task)"
            )
            p.add_argument(
                "--workers", type=int, default=2, help="parallel runs on the local launcher (default: 2)"
            )
            p.add_argument("--launcher", default="local", choices=LAUNCHERS, help="local process pool or ray")
            p.add_argument("--address", help="Ray cluster address (with --launcher ray), e.g. 10.0.0.1:6379")
        if name == "reproduce":
            p.add_argument(
                "--train", action="store_true", help="train the missing runs (default: only report them)"
            )
    for name, func, help in (
        ("plot", cmd_plot, "figures from the finished runs under --out (trains nothing)"),
        ("tables", cmd_tables, "tables from the finished runs under --out (trains nothing)"),
        (
            "verify",
            cmd_verify,
            "the scorecard of the paper's claims from the finished runs under --out (trains nothing)",
        ),
    ):
        p = add(
            name, func, help, f"results root to read runs from and write into (default: {layout.RESULTS})"
        )
        if name == "plot":
            p.add_argument(
                "--format",
                dest="formats",
                action="append",
                choices=FIGURE_FORMATS,
                help="figure file format, repeatable (default: png; results/ commits PNG only)",
            )
    return parser


# --- checking the request ---------------------------------------------------------------------------


def _out(args) -> Path:
    """--out, or the profile's default root."""
    return args.out if args.out is not None else layout.default_root(args.profile)


def _check_writable(out: Path) -> None:
    """--out must be a folder, or a path where one can be made, that this process may write into."""
    _check_not_a_file(out)
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {out}: {existing} is not writable")


def _check_not_a_file(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")


def _seeds(text: str | None) -> list[int]:
    seeds = []
    for part in _split(text):
        try:
            seed = int(part)
        except ValueError:
            raise ConfigError(
                f"--seeds: {part!r} is not an integer; give comma-separated integers >= 0, e.g. --seeds 0,1,2"
            ) from None
        if seed < 0:
            raise ConfigError(f"--seeds: {seed} is negative; seeds are integers >= 0")
        seeds.append(seed)
    return list(dict.fromkeys(seeds))


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def _experiments(args) -> list[str]:
    """The requested experiments (default: all that have the profile), ordered so that an experiment
    comes after those whose runs it starts from (``init_from``)."""
    from experiments.registry import EXPERIMENTS, dependency_order, get_experiment

    names = args.experiments or [
        name for name in sorted(EXPERIMENTS) if args.profile in get_experiment(name).config.profiles
    ]
    for name in names:
        get_experiment(name)  # validate early
    return [name for stage in dependency_order(names) for name in stage]


def _specs(args, names: list[str]) -> list[RunSpec]:
    """Every (experiment, env, algo, seed) requested. ``env`` is set only for experiments with several
    envs."""
    from experiments.registry import get_experiment
    from experiments.runner import RunSpec

    seeds = _seeds(args.seeds)
    preset = getattr(args, "preset", None)
    specs = []
    for name in names:
        experiment = get_experiment(name)
        config = experiment.config
        budget = config.budget(args.profile)
        algos = _split(args.algos) or list(budget.algo_seeds) or experiment.algos
        envs = _split(args.envs) or list(config.envs)
        unknown = [env for env in envs if env not in config.envs]
        if unknown:
            raise ConfigError(f"unknown env(s) {unknown} for {name}; valid envs: {list(config.envs)}")
        for algo in algos:
            config.hyperparameters(algo, preset)  # validate early
        multi_env = len(config.envs) > 1
        specs += [
            RunSpec(name, algo, seed, args.profile, env=env if multi_env else None, preset=preset)
            for env in envs
            for algo in algos
            for seed in seeds or budget.seeds_for(algo)
        ]
    return specs


def _inspect(specs: Sequence[RunSpec], out: Path, names: list[str], *, starting: bool) -> list[RunState]:
    """The state of every requested run. With ``starting`` (the runs are about to start): raise, one line
    per run, for folders that cannot be resumed or hold another configuration, and for runs whose initial
    weights (``init_from``) come from a run that is not finished and not part of this request."""
    from experiments.registry import get_experiment
    from experiments.runner import init_source, inspect_run

    states = [inspect_run(get_experiment(spec.experiment), spec, out) for spec in specs]
    if not starting:
        return states
    problems = [
        state.detail
        for state in states
        if state.state in (layout.CORRUPT, layout.CONFLICT) or not state.resumable
    ]
    for state in states:
        config = get_experiment(state.spec.experiment).config
        if state.state not in (layout.FINISHED, layout.PARTIAL) and not config.dependencies() & set(names):
            try:
                init_source(config, state.spec, out)
            except ConfigError as error:
                problems.append(str(error))
    if problems:
        raise RunFolderError("\n".join(problems))
    return states


# --- commands ---------------------------------------------------------------------------------------


def cmd_list(args) -> int:
    from experiments.registry import EXPERIMENTS

    for name, experiment in sorted(EXPERIMENTS.items()):
        config = experiment.config
        print(
            f"{name}  ({experiment.paper_figures})  "
            f"env{'s' if len(config.envs) > 1 else ''} {', '.join(config.envs)}"
        )
        print(f"  {experiment.description}")
        for algo, spec in config.algos.items():
            init = config.init_from(algo)
            extra = (
                f" (starts from {init.experiment}/{init.algo} [{init.preset}] of the same seed)"
                if init
                else ""
            )
            print(f"  algo {algo:5s} presets {sorted(spec['presets'])} (default {spec['default']}){extra}")
        for profile, budget in config.profiles.items():
            seeds = (
                ", ".join(f"{algo} {list(seeds)}" for algo, seeds in budget.algo_seeds.items())
                or f"{list(budget.seeds)}"
            )
            print(
                f"  profile {profile:8s} {budget.n_epochs} epochs x {budget.steps_per_epoch} steps, "
                f"seeds {seeds}"
            )
    return 0


def cmd_run(args) -> int:
    """Runs in stages by dependency (a stage's runs start only when the runs they start from finished),
    then each experiment's finalize step (e.g. composition)."""
    names = _experiments(args)
    specs = _specs(args, names)  # validates every request before anything runs
    out = _out(args)
    _check_writable(out)
    states = _inspect(specs, out, names, starting=True)
    _train(args, names, states, out)
    return 0


def _train(args, names: list[str], states: Sequence[RunState], out: Path) -> None:
    from experiments.registry import dependency_order, get_experiment

    progress = StepProgress({state.spec: state.steps_to_train for state in states})
    outcomes = []
    try:
        for stage in dependency_order(names):
            stage_specs = [state.spec for state in states if state.spec.experiment in stage]
            outcomes += launch(
                stage_specs,
                out,
                experiments={name: get_experiment(name) for name in stage},
                launcher=args.launcher,
                workers=args.workers,
                address=args.address,
                progress=progress,
            )
    finally:
        progress.close()
    for outcome in sorted(outcomes, key=lambda o: str(o.folder)):
        print(f"{outcome.status:9s} {outcome.folder}")
    for name in names:
        finalize = get_experiment(name).load("finalize")
        if finalize is not None:
            for line in finalize(out, args.profile, _seeds(args.seeds) or None):
                print(line)


def cmd_reproduce(args) -> int:
    """Report what is not finished and, with --train, train it; then regenerate every profile root."""
    names = _experiments(args)
    specs = _specs(args, names)
    out = _out(args)
    _check_writable(out)
    states = _inspect(specs, out, names, starting=args.train)
    not_finished = [state for state in states if state.state != layout.FINISHED]
    if not_finished:
        _report_not_finished(not_finished, len(states), out, args)
        if args.train:
            _train(args, names, states, out)
        else:
            print(
                "not training them (add --train to train them); regenerating from the "
                f"{len(states) - len(not_finished)} finished runs"
            )
    roots = [root for root in layout.profile_roots(out, PROFILES) if _has_finished_runs(root)]
    if out not in roots:
        raise ConfigError(
            f"--out {out}: no finished runs under {out / layout.RUNS}; "
            "nothing to regenerate (--train trains them)"
        )
    for root in roots:
        _regenerate(root)
    return 0


def _regenerate(root: Path) -> None:
    from experiments import analysis

    written = _plot(root) + _tables(root)
    _verify(root)
    _remove_stale_outputs(root, written)
    print(
        f"figures:   {root / analysis.FIGURES}\n"
        f"tables:    {root / analysis.TABLES}\n"
        f"scorecard: {root / analysis.SCORECARD}"
    )


def cmd_status(args) -> int:
    out = _out(args)
    _check_not_a_file(out)
    names = _experiments(args)
    specs = _specs(args, names)
    states = _inspect(specs, out, names, starting=False)
    extras = _extra_runs(args, names, specs, out)
    for state in states:
        print(f"{state.state:9s} {_describe(state.folder, out)}  {state.detail}")
    for state, kind in extras:
        why = f"extra: a {kind} run" if kind else "extra: outside the profile's seed lists"
        print(
            f"{state.state:9s} {_describe(state.folder, out)}  {'; '.join(filter(None, (state.detail, why)))}"
        )
    n_finished = sum(s.state == layout.FINISHED for s, _ in extras)
    extra = f"; {len(extras)} extra ({n_finished} finished)" if extras else ""
    counts = (f"{sum(s.state == name for s in states)} {name}" for name in layout.FOLDER_STATES)
    print(", ".join(counts) + extra)
    to_train = [state for state in states if state.state in (layout.MISSING, layout.PARTIAL)]
    if to_train:
        print(_estimate_line(to_train, out, args))
    return 0


def _describe(folder: Path, out: Path) -> str:
    """``experiment/[env/]algo/seed_k``: the env only for experiments with several envs."""
    from experiments.registry import EXPERIMENTS

    experiment, env, algo, seed = folder.relative_to(out / layout.RUNS).parts
    several = experiment in EXPERIMENTS and len(EXPERIMENTS[experiment].config.envs) > 1
    return "/".join([experiment, env, algo, seed] if several else [experiment, algo, seed])


def _extra_runs(
    args, names: list[str], specs: Sequence[RunSpec], out: Path
) -> list[tuple[RunState, str | None]]:
    """Run folders of the requested experiments (and --algos, --envs, --seeds) that are not among the
    requested runs: seeds outside the profile's lists, other algos, evaluation runs (their manifest's
    ``kind``). Each with its state and that kind."""
    from experiments.registry import get_experiment
    from experiments.runner import inspect_folder

    requested = {
        layout.run_dir(out, s.experiment, s.env or get_experiment(s.experiment).config.env, s.algo, s.seed)
        for s in specs
    }
    algos, envs, seeds = (
        set(_split(args.algos)),
        {layout.env_slug(e) for e in _split(args.envs)},
        set(_seeds(args.seeds)),
    )
    extras = []
    for name in names:
        budget = get_experiment(name).config.budget(args.profile)
        for folder in sorted((out / layout.RUNS / name).glob("*/*/seed_*")):
            env, algo, seed = folder.parts[-3], folder.parts[-2], folder.name.removeprefix("seed_")
            if (
                folder in requested
                or (algos and algo not in algos)
                or (envs and env not in envs)
                or (seeds and not (seed.isdigit() and int(seed) in seeds))
            ):
                continue
            state = inspect_folder(folder, budget.steps_per_epoch, budget.n_epochs)
            extras.append((state, (state.manifest or {}).get("kind")))
    return extras


def _has_runs(root: Path) -> bool:
    return bool(find_run_dirs(root))


def _has_finished_runs(root: Path) -> bool:
    return any(
        (read_manifest_file(folder / layout.MANIFEST)[0] or {}).get("status") == layout.FINISHED
        for folder in find_run_dirs(root)
    )


# --- the cost of what is missing --------------------------------------------------------------------


def _report_not_finished(not_finished: Sequence[RunState], n_requested: int, out: Path, args) -> None:
    """Up front: how many runs are not finished, which, and what training the missing and partial ones
    costs."""
    counts = ", ".join(
        f"{n} {name}" for name in layout.FOLDER_STATES if (n := sum(s.state == name for s in not_finished))
    )
    print(
        f"{len(not_finished)} of the {n_requested} {args.profile} runs under {out} "
        f"are not finished ({counts}):"
    )
    costs = _ms_per_step(out)
    for state in not_finished:
        note = _cost_note(state, costs) if state.state in (layout.MISSING, layout.PARTIAL) else state.detail
        print(f"  {state.state:8s} {_describe(state.folder, out):55s} {note}")
    to_train = [state for state in not_finished if state.state in (layout.MISSING, layout.PARTIAL)]
    if to_train:
        print(_estimate_line(to_train, out, args, costs))


def _estimate_line(to_train: Sequence[RunState], out: Path, args, costs: dict | None = None) -> str:
    costs = _ms_per_step(out) if costs is None else costs
    seconds = [_seconds(state, costs) for state in to_train]
    known = [s for s in seconds if s is not None]
    core_hours = sum(known) / 3600
    workers = max(1, min(getattr(args, "workers", 2), len(to_train)))
    unknown = len(seconds) - len(known)
    return (
        f"estimated {core_hours:.2f} core-hours to train them "
        f"(about {core_hours / workers:.1f} h on {workers} worker{'s' if workers > 1 else ''}), "
        "from the measured ms/step of finished runs of the same experiment and algo"
        + (f"; {unknown} run(s) without a measured cost are not counted" if unknown else "")
    )


def _ms_per_step(root: Path) -> dict[tuple[str, str], list[float]]:
    """Measured cost of the finished runs under ``root``: (experiment, algo) -> ms per env step of each
    (wall_time_s over budget.total_steps, evaluation included; composition's evaluation runs have none)."""
    costs: dict[tuple[str, str], list[float]] = {}
    for folder in find_run_dirs(root):
        manifest, _ = read_manifest_file(folder / layout.MANIFEST)
        if manifest is None or manifest["status"] != layout.FINISHED or manifest.get("kind"):
            continue
        wall, steps = manifest.get("wall_time_s"), (manifest.get("budget") or {}).get("total_steps")
        if isinstance(wall, int | float) and isinstance(steps, int) and steps > 0:
            costs.setdefault((manifest["experiment"], manifest["algo"]), []).append(1000 * wall / steps)
    return costs


def _seconds(state: RunState, costs: dict[tuple[str, str], list[float]]) -> float | None:
    """One core's seconds to train what ``state`` still needs: the median measured ms/step of its
    (experiment, algo), else its task's ``core_hours`` for the profile shared over the profile's runs."""
    from experiments.registry import get_experiment

    measured = costs.get((state.spec.experiment, state.spec.algo))
    if measured:
        return statistics.median(measured) / 1000 * state.steps_to_train
    budget = get_experiment(state.spec.experiment).config.budget(state.spec.profile)
    if budget.core_hours is None:
        return None
    return budget.core_hours * 3600 / _n_profile_runs(state.spec) * state.steps_to_train / state.steps_total


def _n_profile_runs(spec: RunSpec) -> int:
    from experiments.registry import get_experiment

    experiment = get_experiment(spec.experiment)
    budget = experiment.config.budget(spec.profile)
    algos = list(budget.algo_seeds) or experiment.algos
    return len(experiment.config.envs) * sum(len(budget.seeds_for(algo)) for algo in algos)


def _cost_note(state: RunState, costs: dict[tuple[str, str], list[float]]) -> str:
    seconds = _seconds(state, costs)
    resume = f", resumes at step {state.steps_done:,}" if state.steps_done else ""
    if seconds is None:
        return f"{state.steps_to_train:,} steps, no measured cost{resume}"
    measured = costs.get((state.spec.experiment, state.spec.algo))
    source = (
        f"{statistics.median(measured):.1f} ms/step, median of {len(measured)} finished run(s)"
        if measured
        else "the task file's core_hours"
    )
    return f"{seconds / 3600:5.2f} core-h ({state.steps_to_train:,} steps at {source}{resume})"


# --- analysis ---------------------------------------------------------------------------------------


def _analysis_root(args, verb: str) -> Path:
    """--out for plot, tables and verify: an existing folder with runs, writable."""
    out = args.out if args.out is not None else layout.RESULTS
    if not out.exists():
        raise ConfigError(f"--out {out} does not exist; nothing to {verb}")
    _check_not_a_file(out)
    _check_writable(out)
    if not _has_runs(out):
        raise ConfigError(f"--out {out}: no runs under {out / layout.RUNS}; nothing to {verb}")
    return out


def _report(problems, root: Path) -> None:
    for problem in problems:
        print(f"left out: {problem.describe(root)}", file=sys.stderr)


def cmd_plot(args) -> int:
    _plot(_analysis_root(args, "plot"), tuple(dict.fromkeys(args.formats or DEFAULT_FIGURE_FORMATS)))
    return 0


def cmd_tables(args) -> int:
    _tables(_analysis_root(args, "tabulate"))
    return 0


def cmd_verify(args) -> int:
    _verify(_analysis_root(args, "verify"))
    return 0


def _plot(root: Path, formats: Sequence[str] = DEFAULT_FIGURE_FORMATS) -> list[Path]:
    from experiments import analysis
    from experiments.registry import EXPERIMENTS, figure_specs

    paths, problems = analysis.make_generic_figures(root, root, figure_specs(), formats=formats)
    paths += analysis.make_budget_trajectory_figures(root, root, formats=formats)[0]
    for experiment in EXPERIMENTS.values():
        for figure in experiment.figure_makers():
            paths += figure(root, root / analysis.FIGURES, None, formats)
    _report(problems, root)
    print(f"{len(paths)} figure files in {root / analysis.FIGURES}")
    return paths


def _tables(root: Path) -> list[Path]:
    from experiments import analysis

    paths, problems = analysis.make_tables(root, root)
    _report(problems, root)
    print(f"{len(paths)} table files in {root / analysis.TABLES}")
    return paths


def _remove_stale_outputs(root: Path, written: Sequence[Path]) -> None:
    """Delete the figures and tables under ``root`` that this regeneration no longer writes (say, a table
    across tasks while one task lacks an arm), so that no output of older runs sits beside the current
    ones as if it were current. Another format of a current output (``plot --format pdf``) is kept."""
    from experiments import analysis

    current = {(Path(path).resolve().parent, Path(path).stem) for path in written}
    for folder in (root / analysis.FIGURES, root / analysis.TABLES):
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            if path.is_file() and (path.resolve().parent, path.stem) not in current:
                path.unlink()
                print(f"removed {path}: no longer generated")


def _verify(root: Path) -> None:
    """The scorecard, unless a run of an experiment that a claim checks cannot be read: a verdict without
    it would be quietly different (fewer seeds), so nothing is written and the runs are named."""
    from experiments import analysis
    from experiments.analysis.aggregate import load_runs
    from experiments.claims import CLAIMS
    from experiments.provenance import version_differences

    _, problems = load_runs(root)
    claimed = {claim.experiment for claim in CLAIMS}
    needed = [
        p for p in problems if p.unreadable and p.path.relative_to(root / layout.RUNS).parts[0] in claimed
    ]
    if needed:
        raise CorruptRunError(
            "\n".join(f"{p.describe(root)}; the scorecard needs it, so none was written" for p in needed)
        )
    for line in version_differences(root):
        print(f"warning: {line}", file=sys.stderr)
    out = root / analysis.SCORECARD
    _, problems = analysis.make_scorecard(root, out)
    _report(problems, root)
    print(f"scorecard: {out}")
