"""Finding run folders, reading a run's ``manifest.json`` and ``progress.csv`` and deciding whether they can
be used: what the runner (before it skips a finished run), the CLI and the analysis (before it loads a run)
share.

Plain Python on purpose: a training worker imports this, and must not pull in pandas or the analysis.
"""

from __future__ import annotations

import csv
import json
import math
from io import StringIO
from pathlib import Path

from experiments import layout

REQUIRED_MANIFEST = ("experiment", "algo", "env", "seed", "status", "profile")

# Cells pandas reads as missing values (its default ``na_values``), and the booleans it reads as 1 and 0:
# the analysis parses the values with pandas, so a cell of what runs write (numbers, NaN, booleans) is
# numeric here as it is there.
_MISSING_CELLS = frozenset(
    ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>")
    + ("N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
)
_BOOLEAN_CELLS = {"True": 1.0, "False": 0.0}


def find_run_dirs(root: str | Path) -> list[Path]:
    """Every ``runs/<experiment>/<env>/<algo>/<leaf>`` folder under root that holds a file, sorted. A
    folder holding nothing but the runner's lock is a run that is starting (or never wrote a file)."""
    runs_dir = Path(root) / layout.RUNS
    if not runs_dir.is_dir():
        return []
    return sorted(
        p for p in runs_dir.glob("*/*/*/*") if p.is_dir() and any(f.name != layout.LOCK for f in p.iterdir())
    )


def read_manifest_file(
    path: Path, required: tuple[str, ...] = REQUIRED_MANIFEST
) -> tuple[dict | None, str | None]:
    """(manifest, None), or (None, why it cannot be used): missing, not JSON, not an object, or without
    one of the ``required`` fields."""
    if not path.is_file():
        return None, f"{layout.MANIFEST} is missing"
    try:
        with path.open("rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"{layout.MANIFEST} is not valid JSON ({type(e).__name__}: {e})"
    if not isinstance(manifest, dict):
        return None, f"{layout.MANIFEST} is not a JSON object"
    missing = [k for k in required if manifest.get(k) in (None, "")]
    if missing:
        return None, f"{layout.MANIFEST} lacks required field(s): {', '.join(missing)}"
    return manifest, None


def read_progress_text(path: Path) -> tuple[str | None, str | None]:
    """(text, None) for a usable progress.csv, or (None, why it cannot be used). Besides parsing, a file
    must be complete: end with a newline (a file cut mid-line was truncated), have as many cells in every
    row as in its header, hold numbers only, and number its epochs 1, 2, ... in order (the runner writes
    each epoch once, in order)."""
    if not path.is_file():
        return None, f"{layout.PROGRESS} is missing"
    try:
        with path.open("rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, f"{layout.PROGRESS} cannot be parsed ({type(e).__name__}: {str(e).strip()[:120]})"
    why = _progress_problem(text)
    return (None, why) if why is not None else (text, None)


def _progress_problem(text: str) -> str | None:
    if "\x00" in text:
        return f"{layout.PROGRESS} contains NUL bytes (binary or truncated file)"
    if text and not text.endswith("\n"):
        return f"{layout.PROGRESS} ends mid-line (truncated)"
    rows = list(csv.reader(StringIO(text)))
    widths = {i: len(row) for i, row in enumerate(rows[1:], start=2) if len(row) != len(rows[0])}
    if rows and widths:
        line, width = next(iter(widths.items()))
        return (
            f"{layout.PROGRESS} line {line} has {width} cells, its header {len(rows[0])} "
            "(truncated or mixed rows)"
        )
    if not rows or not rows[0]:
        return f"{layout.PROGRESS} cannot be parsed (EmptyDataError: No columns to parse from file)"
    header, body = rows[0], rows[1:]
    missing = [c for c in (layout.EPOCH, layout.STEP) if c not in header]
    if missing:
        return f"{layout.PROGRESS} lacks column(s) {', '.join(missing)} (columns: {header[:8]})"
    if not body:
        return f"{layout.PROGRESS} has no rows"
    bad = next(
        ((name, row[i]) for i, name in enumerate(header) for row in body if not _is_number(row[i])), None
    )
    if bad is not None:
        return f"{layout.PROGRESS} column {bad[0]!r} has non-numeric values (e.g. {bad[1]!r})"
    epochs, steps = ([_number(row[header.index(c)]) for row in body] for c in (layout.EPOCH, layout.STEP))
    return _epoch_problem(epochs, steps)


def _epoch_problem(epochs: list[float], steps: list[float]) -> str | None:
    for name, values in ((layout.EPOCH, epochs), (layout.STEP, steps)):
        if any(math.isnan(v) for v in values):
            return f"{layout.PROGRESS} column {name!r} has empty cells"
    if any(later < earlier for earlier, later in zip(steps, steps[1:], strict=False)):
        return f"{layout.PROGRESS} column 'step' decreases (rows out of order or two runs mixed)"
    if epochs != [float(epoch) for epoch in range(1, len(epochs) + 1)]:
        return f"{layout.PROGRESS} epochs are not 1..{len(epochs)} in order (a row missing or repeated)"
    return None


def _is_number(cell: str) -> bool:
    try:
        _number(cell)
    except ValueError:
        return False
    return True


def _number(cell: str) -> float:
    """The cell's value as pandas reads it (NaN for a missing one); ValueError if it is not a number."""
    if cell in _MISSING_CELLS:
        return math.nan
    if cell in _BOOLEAN_CELLS:
        return _BOOLEAN_CELLS[cell]
    if "_" in cell:  # Python's float() accepts digit separators, pandas does not
        raise ValueError(cell)
    return float(cell)
