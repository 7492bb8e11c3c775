"""What the generic figures of the analysis layer draw (:class:`FigureSpec`), without matplotlib: the
experiment registry lists its experiments' figures here, and only ``plot`` renders them
(:func:`experiments.analysis.plots.render_spec`)."""

from __future__ import annotations

from dataclasses import dataclass

from experiments import layout

# Figure file formats: PNG by default and in results/; PDF on request (``plot --format pdf``).
FIGURE_FORMATS = ("png", "pdf")
DEFAULT_FIGURE_FORMATS = ("png",)


@dataclass(frozen=True)
class FigureSpec:
    """One generic figure. ``kind``: "seed_lines" (metric), "seed_bands" (low, high), "mean_std" (metric),
    "rliable" (metric, reduction). ``envs``/``algos`` restrict the runs (None: all of the experiment)."""

    name: str
    kind: str
    experiment: str
    metric: str | None = None
    low: str | None = None
    high: str | None = None
    reduction: str = "final"
    ref: float | None = None
    ref_label: str | None = None
    title: str | None = None
    ylabel: str | None = None
    envs: tuple[str, ...] | None = None
    algos: tuple[str, ...] | None = None
    higher_is_better: bool = True

    def columns(self) -> list[str]:
        return [c for c in (self.metric, self.low, self.high) if c]


def generic_return_specs(experiments) -> list[FigureSpec]:
    """A mean +- std figure of the deployed evaluation return for each experiment."""
    return [
        FigureSpec(
            f"{e}_{layout.EVAL_RETURN_DEPLOYED}",
            "mean_std",
            e,
            metric=layout.EVAL_RETURN_DEPLOYED,
            title=f"{e}: evaluation return of the deployed (deterministic) policy",
        )
        for e in sorted(experiments)
    ]
