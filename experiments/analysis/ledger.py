"""The deviation ledger (experiments/deviations.yaml): load it and pick the entries that apply."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_LEDGER = Path(__file__).resolve().parent.parent / "deviations.yaml"


@dataclass(frozen=True)
class Deviation:
    id: str
    applies_to: tuple[str, ...]
    paper: str
    ours: str
    why: str

    def applies(self, experiment: str) -> bool:
        return "all" in self.applies_to or experiment in self.applies_to


def _text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def load_deviations(path: str | Path | None = None) -> list[Deviation]:
    """Every ledger entry, in file order. A missing file or an empty list gives []."""
    path = Path(path) if path is not None else DEFAULT_LEDGER
    if not path.is_file():
        return []
    with path.open("rb") as f:
        data = yaml.safe_load(f.read().decode("utf-8")) or {}
    entries = (data.get("deviations") or []) if isinstance(data, dict) else (data or [])
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: deviation #{i} is not a mapping")
        applies = entry.get("applies_to", "all")
        if isinstance(applies, str):
            applies = [applies]
        out.append(
            Deviation(
                id=_text(entry.get("id") or f"unnamed-{i}"),
                applies_to=tuple(_text(a) for a in applies),
                paper=_text(entry.get("paper")),
                ours=_text(entry.get("ours")),
                why=_text(entry.get("why")),
            )
        )
    return out


def applicable(deviations: list[Deviation], experiments) -> list[Deviation]:
    """Entries that apply to any of ``experiments`` (a name or an iterable of names), in ledger order."""
    names = {experiments} if isinstance(experiments, str) else set(experiments)
    return [d for d in deviations if any(d.applies(e) for e in names)]


def markdown_lines(deviations: list[Deviation], experiments) -> list[str]:
    label = experiments if isinstance(experiments, str) else ", ".join(sorted(set(experiments)))
    chosen = applicable(deviations, experiments)
    if not chosen:
        return [f"Deviations from the paper that apply to {label}: none recorded in the ledger."]
    lines = [f"Deviations from the paper that apply to {label} (experiments/deviations.yaml):", ""]
    for d in chosen:
        lines.append(f"- **{d.id}**: ours: {d.ours} Paper: {d.paper} Why: {d.why}")
    return lines
