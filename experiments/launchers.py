"""Launchers: run many runs on a local process pool (default) or as tasks on a Ray cluster.

Both call :func:`experiments.runner.run` with one torch thread per run and write the same layout. A
:class:`StepProgress` bar counts the environment steps still to train, with an ETA: the local pool's
workers report every epoch; Ray runs count when they end.

Stopping: SIGTERM or Ctrl-C in the launching process raises :class:`Interrupted` (a KeyboardInterrupt)
there (:func:`interrupt_on_sigterm`). The local launcher then tells its workers to stop: each run in
progress marks itself ``interrupted`` (it resumes from its last checkpoint), queued runs do not start,
and the pool and its queues are shut down, so no process or semaphore is left behind.
"""

from __future__ import annotations

import _thread
import ctypes
import queue
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

if TYPE_CHECKING:  # the runner imports torch; the CLI's analysis commands never need it
    from experiments.experiment import Experiment
    from experiments.runner import RunOutcome, RunSpec

LAUNCHERS = ("local", "ray")


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT (Ctrl-C) arrived; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(int(signum))  # the only argument, so that it pickles back from a pool worker
        self.signum = int(signum)

    def __str__(self) -> str:
        return signal.Signals(self.signum).name


class RunsFailedError(RuntimeError):
    """Some runs raised; one line per run. Finished runs are kept, and rerunning resumes the others."""


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Interrupted` as Ctrl-C raises KeyboardInterrupt, so that
    ``finally`` blocks and exit handlers run (a process ended by SIGTERM's default action leaks its
    semaphores). Only in the main thread, where Python handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class StepProgress:
    """One progress bar over the environment steps still to train (``steps_to_train``: per run), across
    the launches of a request's stages. A run counts as its epochs are reported and in full when it ends
    (skipped, failed or finished), so the bar ends at its total."""

    def __init__(self, steps_to_train: dict[RunSpec, int]):
        self._planned = dict(steps_to_train)
        self._counted = dict.fromkeys(steps_to_train, 0)
        self._bar = tqdm(
            total=sum(self._planned.values()),
            desc="env steps",
            unit="step",
            unit_scale=True,
            smoothing=0.05,
            disable=not self._planned,
        )

    def add(self, spec: RunSpec, steps: int) -> None:
        steps = min(steps, self._planned.get(spec, 0) - self._counted.get(spec, 0))
        if steps > 0:
            self._counted[spec] += steps
            self._bar.update(steps)

    def end(self, spec: RunSpec) -> None:
        self.add(spec, self._planned.get(spec, 0))

    def close(self) -> None:
        self._bar.close()


# --- the local process pool -------------------------------------------------------------------------

_worker_progress: queue.Queue | None = None  # the pool's queue of (run index, steps) reports
_worker_stop: threading.Event | None = None  # set by the launcher to stop the pool's runs


def _init_worker(progress, stop) -> None:
    """Pool worker set-up. The worker ends when the launcher dies (Linux), instead of finishing queued
    runs as an orphan. Outside a run it ignores SIGINT and SIGTERM: Ctrl-C reaches every process of the
    terminal, and an idle worker must wait for the pool's shutdown instead of dying mid-protocol. A
    thread turns the launcher's stop event into a SIGINT of the run in progress."""
    global _worker_progress, _worker_stop
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _worker_progress, _worker_stop = progress, stop
    _ignore_interrupts()

    def interrupt_on_stop() -> None:
        stop.wait()
        _thread.interrupt_main(signal.SIGINT)  # does nothing while SIGINT is ignored (between runs)

    threading.Thread(target=interrupt_on_stop, daemon=True).start()


def _ignore_interrupts() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _interrupt_once(signum: int, frame: object) -> None:
    _ignore_interrupts()  # a second signal must not cut short the run's marking itself interrupted
    raise Interrupted(signum)


def _run_one(index: int, experiment: Experiment, spec: RunSpec, root: str) -> RunOutcome:
    from experiments.runner import run

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt_once)
    try:
        if (
            _worker_stop is not None and _worker_stop.is_set()
        ):  # after the handlers: a stop never slips between
            raise Interrupted()  # a queued run after the launcher stopped: never started
        on_epoch = None if _worker_progress is None else lambda steps: _worker_progress.put((index, steps))
        return run(experiment, spec, root, on_epoch=on_epoch)
    finally:
        _ignore_interrupts()


def launch(
    specs: Sequence[RunSpec],
    root: str | Path,
    *,
    experiments: Mapping[str, Experiment],
    launcher: str = "local",
    workers: int = 2,
    address: str | None = None,
    progress: StepProgress | None = None,
) -> list[RunOutcome]:
    """Run every spec (each a run of ``experiments[spec.experiment]``); ``progress`` counts their steps.
    Failures are raised together (RunsFailedError) after the other runs finished."""
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r}; valid launchers: {list(LAUNCHERS)}")
    if not specs:
        return []
    root = str(Path(root).resolve())  # workers (and Ray nodes) may run elsewhere
    if launcher == "ray":
        return _launch_ray(specs, experiments, root, address, progress)
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    context = get_context("spawn")
    reports, stop = context.Queue(), context.Event()
    outcomes, errors = [], []
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(specs)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(reports, stop),
    )
    try:
        pending = {
            pool.submit(_run_one, index, experiments[spec.experiment], spec, root): spec
            for index, spec in enumerate(specs)
        }
        while pending:
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            _count_reports(reports, specs, progress)
            for future in done:
                spec = pending.pop(future)
                if progress is not None:
                    progress.end(spec)
                try:
                    outcomes.append(future.result())
                except Exception as error:  # noqa: BLE001  (reported together below)
                    errors.append(f"{spec.describe()}: {type(error).__name__}: {error}")
                except KeyboardInterrupt:  # the worker alone was stopped (SIGTERM to its pid)
                    errors.append(
                        f"{spec.describe()}: interrupted; it resumes from its last checkpoint when run again"
                    )
    except KeyboardInterrupt:
        stop.set()
        with _interrupts_ignored():  # a second Ctrl-C must not abandon the workers half-way
            _shut_down(pool, reports)
        raise
    _shut_down(pool, reports)
    if errors:
        raise RunsFailedError("\n".join(errors))
    return outcomes


def _shut_down(pool: ProcessPoolExecutor, reports) -> None:
    """Wait for the workers (after a stop, for their runs to mark themselves interrupted), drop the runs
    not started, and close the report queue: nothing is left running or allocated."""
    pool.shutdown(wait=True, cancel_futures=True)
    reports.close()
    reports.join_thread()


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _count_reports(reports, specs: Sequence[RunSpec], progress: StepProgress | None) -> None:
    while True:
        try:
            index, steps = reports.get_nowait()
        except queue.Empty:
            return
        if progress is not None:
            progress.add(specs[index], steps)


# --- Ray --------------------------------------------------------------------------------------------


def _run_on_ray(experiment: Experiment, spec: RunSpec, root: str) -> RunOutcome:
    """A Ray task: Ray's worker owns its signals (``ray.cancel`` interrupts the run with
    KeyboardInterrupt)."""
    from experiments.runner import run

    return run(experiment, spec, root)


def _launch_ray(
    specs: Sequence[RunSpec],
    experiments: Mapping[str, Experiment],
    root: str,
    address: str | None,
    progress: StepProgress | None,
) -> list[RunOutcome]:
    try:
        import ray
    except ImportError as error:
        raise RuntimeError("the ray launcher needs ray: pip install 'softq[cluster]'") from error
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote_run = ray.remote(num_cpus=1)(_run_on_ray)
    pending = {remote_run.remote(experiments[spec.experiment], spec, root): spec for spec in specs}
    outcomes, errors = [], []
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            spec = pending.pop(done[0])
            if progress is not None:
                progress.end(spec)
            try:
                outcomes.append(ray.get(done[0]))
            except Exception as error:  # noqa: BLE001
                errors.append(f"{spec.describe()}: {type(error).__name__}: {error}")
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref)  # a KeyboardInterrupt in the task: the run marks itself interrupted
        raise
    if errors:
        raise RunsFailedError("\n".join(errors))
    return outcomes
