"""One run's folder on disk (:mod:`experiments.layout` names its files): its manifest, progress.csv,
checkpoints and lock, written atomically. Shared by the runner (training runs) and by experiments that
write evaluation runs of their own (composition), so both leave folders the analysis reads the same way.

Nothing here imports torch: a checkpoint is a pickled dict that the runner fills and reads.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pickle
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.utils import EzPickle

from experiments import layout
from experiments.layout import CorruptRunError, RunLockedError
from experiments.run_files import read_manifest_file, read_progress_text

LATEST = "LATEST"
TRAINING_STATE = "training_state.pkl"  # the one file of a checkpoint


class OlderCheckpointError(CorruptRunError):
    """A checkpoint of the runner before exact resume (model.zip, replay buffer and RNG states, without the
    training env): a resume from it would diverge from an uninterrupted run, so it is refused."""


class RunFolder:
    """``<root>/runs/<experiment>/<env slug>/<algo>/seed_<k>/`` and what it holds."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def of(cls, root: str | Path, experiment: str, env_id: str, algo: str, seed: int) -> RunFolder:
        return cls(layout.run_dir(root, experiment, env_id, algo, seed))

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def manifest_path(self) -> Path:
        return self.path / layout.MANIFEST

    @property
    def progress_path(self) -> Path:
        return self.path / layout.PROGRESS

    @property
    def artifacts(self) -> Path:
        return self.path / layout.ARTIFACTS

    @property
    def checkpoints(self) -> Path:
        return self.path / layout.CHECKPOINT

    # --- manifest ---------------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any] | None:
        """The run's manifest; None if the folder does not exist or holds nothing but the lock of a run
        that is starting. Raises CorruptRunError on anything odd."""
        if not self.path.exists():
            return None
        if not self.manifest_path.exists():
            if any(p.name != layout.LOCK for p in self.path.iterdir()):
                raise CorruptRunError(
                    f"{self.path} has files but no {layout.MANIFEST}; move it away to rerun this run"
                )
            return None
        manifest, why = read_manifest_file(self.manifest_path, required=("status", "profile"))
        if manifest is None:
            raise CorruptRunError(
                f"{self.manifest_path} is not a valid manifest ({why}); move the folder away to rerun it"
            )
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_text(
            self.manifest_path, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
        )

    # --- progress.csv -----------------------------------------------------------------------------

    def check_progress(self) -> None:
        """Raise CorruptRunError if a finished run's progress.csv is missing, corrupt or truncated."""
        _, why = read_progress_text(self.progress_path)
        if why is not None:
            raise CorruptRunError(f"{self.path}: {why}; move the folder away to rerun it")

    def epochs_written(self) -> int:
        path = self.progress_path
        return max(0, path.read_bytes().count(b"\n") - 1) if path.exists() else 0

    def append_progress(self, row: dict[str, Any]) -> None:
        """Append one epoch's row (the header first in a new file), synced to disk: a kill loses at most
        the row being written. Training runs' rows end in CRLF (the csv module's default), as ever."""
        path = self.progress_path
        new = not path.exists() or path.stat().st_size == 0
        with open(path, "a", newline="") as f:
            f.write(_csv_text(row, header=new, lineterminator="\r\n"))
            f.flush()
            os.fsync(f.fileno())

    def write_progress(self, row: dict[str, Any]) -> None:
        """Write a one-row progress.csv at once (evaluation runs such as composition's), LF line ends."""
        atomic_write_text(self.progress_path, _csv_text(row, header=True, lineterminator="\n"))

    def truncate_progress(self, epoch: int) -> None:
        """Keep the header and the rows of epochs 1..``epoch`` (those the checkpoint covers), byte for
        byte; drop the file if none. Rows after them (also one cut mid-line by a kill) are written again."""
        path = self.progress_path
        if not path.exists():
            return
        if epoch == 0:
            path.unlink()
            return
        lines = path.read_bytes().splitlines(keepends=True)
        kept = lines[: epoch + 1]
        epochs = [line.split(b",", 1)[0] for line in kept[1:]]
        if epochs != [str(e).encode() for e in range(1, epoch + 1)] or not all(
            line.endswith(b"\n") for line in kept
        ):
            raise CorruptRunError(
                f"{path} lacks the rows of epochs 1..{epoch} its checkpoint covers; "
                "move the folder away to rerun it"
            )
        if len(kept) < len(lines):
            atomic_write_bytes(path, b"".join(kept))

    # --- checkpoints ------------------------------------------------------------------------------

    def latest_checkpoint(self) -> Path | None:
        pointer = self.checkpoints / LATEST
        if not pointer.exists():
            return None
        path = self.checkpoints / pointer.read_text().strip()
        if not (path / TRAINING_STATE).exists():
            if (path / "model.zip").exists():
                raise OlderCheckpointError(
                    f"{path} is a checkpoint of the runner before exact resume, which cannot resume exactly; "
                    "let the process that runs it finish, or move the folder away to rerun it"
                )
            raise CorruptRunError(
                f"{pointer} points to {path}, which is incomplete; move the folder away to rerun it"
            )
        return path

    def save_checkpoint(self, epoch: int, state: dict[str, Any]) -> None:
        """Pickle ``state`` as the checkpoint of ``epoch``: a complete ``checkpoint/epoch_N/`` first, then
        the ``LATEST`` pointer replaced in one rename, then older checkpoints removed."""
        target = self.checkpoints / f"epoch_{epoch:05d}"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        with open(target / TRAINING_STATE, "wb") as f:
            _TrainingStatePickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
            f.flush()
            os.fsync(f.fileno())
        atomic_write_text(self.checkpoints / LATEST, target.name + "\n")
        for old in self.checkpoints.glob("epoch_*"):
            if old != target:
                shutil.rmtree(old)

    @staticmethod
    def load_checkpoint(checkpoint: Path) -> dict[str, Any]:
        with open(checkpoint / TRAINING_STATE, "rb") as f:
            return pickle.load(f)

    # --- lock -------------------------------------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder: two processes never write one run (an orphaned pool
        worker, a second launcher). The OS drops the lock when the holder dies, so a killed run resumes."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / layout.LOCK, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise RunLockedError(
                    f"{self.path} is being run by another process; wait for it or stop it"
                ) from error
            yield


def checkpoint_epoch(checkpoint: Path) -> int:
    return int(checkpoint.name.removeprefix("epoch_"))


class _TrainingStatePickler(pickle.Pickler):
    """Pickles gymnasium's ``EzPickle`` objects (the MuJoCo envs) by their state. EzPickle pickles an env
    as its constructor arguments, which unpickle into a fresh env; a resumed run needs the env it left:
    mid-episode, with its MuJoCo state (MjData pickles exactly) and RNG."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, EzPickle):
            return _object_from_state, (type(obj), obj.__dict__)
        return NotImplemented


def _object_from_state(cls: type, state: dict[str, Any]) -> Any:
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def _csv_text(row: dict[str, Any], *, header: bool, lineterminator: str) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator=lineterminator)
    if header:
        writer.writeheader()
    writer.writerow({k: repr(float(v)) if isinstance(v, float | np.floating) else v for k, v in row.items()})
    return buffer.getvalue()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
