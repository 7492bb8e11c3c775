"""Launchers: run many runs on a local process pool (default) or as tasks on a Ray cluster.

Both call :func:`experiments.runner.run` with one torch thread per run and write the same layout.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from experiments.runner import RunOutcome, RunSpec, run

LAUNCHERS = ("local", "ray")


def _run_one(spec: RunSpec, root: str) -> RunOutcome:
    return run(spec, root)


def _die_with_parent() -> None:
    """Pool workers end when the launcher dies (Linux), instead of finishing queued runs as orphans.
    Their runs then resume from the last checkpoint on the next launch."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def launch(specs: Sequence[RunSpec], root: str | Path, *, launcher: str = "local", workers: int = 2, address: str | None = None) -> list[RunOutcome]:
    """Run every spec; a progress bar counts runs done, with ETA. Failures are raised after all finish."""
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r}; valid launchers: {list(LAUNCHERS)}")
    if not specs:
        return []
    root = str(Path(root).resolve())  # workers (and Ray nodes) may run elsewhere
    if launcher == "ray":
        return _launch_ray(specs, root, address)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    outcomes, errors = [], []
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=context, initializer=_die_with_parent) as pool:
        futures = {pool.submit(_run_one, spec, root): spec for spec in specs}
        for future in tqdm(as_completed(futures), total=len(futures), desc="runs", unit="run"):
            try:
                outcomes.append(future.result())
            except Exception as error:  # noqa: BLE001  (reported together below)
                errors.append(f"{futures[future].describe()}: {error!r}")
    if errors:
        raise RuntimeError("some runs failed (finished runs are kept; rerun to resume):\n" + "\n".join(errors))
    return outcomes


def _launch_ray(specs: Sequence[RunSpec], root: str, address: str | None) -> list[RunOutcome]:
    try:
        import ray
    except ImportError as error:
        raise RuntimeError("the ray launcher needs ray: pip install 'softq[ray]'") from error
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote_run = ray.remote(num_cpus=1)(_run_one)
    pending = {remote_run.remote(spec, root): spec for spec in specs}
    outcomes, errors = [], []
    with tqdm(total=len(pending), desc="runs (ray)", unit="run") as bar:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            spec = pending.pop(done[0])
            try:
                outcomes.append(ray.get(done[0]))
            except Exception as error:  # noqa: BLE001
                errors.append(f"{spec.describe()}: {error!r}")
            bar.update(1)
    if errors:
        raise RuntimeError("some runs failed (finished runs are kept; rerun to resume):\n" + "\n".join(errors))
    return outcomes
