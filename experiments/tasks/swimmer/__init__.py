"""Undirected swimmer with a forward finish line (paper Sec. 5.2, Fig. 3a and 6): does exploration find the
bonus? Its figures are generic ones (:class:`~experiments.analysis.figure_specs.FigureSpec`)."""

from __future__ import annotations

from experiments.analysis.figure_specs import FigureSpec
from experiments.experiment import Experiment
from softq.envs.swimmer import FINISH_LINE_X

EXPERIMENT = Experiment(
    name="swimmer",
    description="Undirected swimmer with a forward finish line: does exploration find the bonus?",
    paper_figures="Fig. 3a, Fig. 6",
    task="swimmer",
    metrics=f"{__name__}.training:SwimmerMetrics",
    figure_specs=(
        FigureSpec(
            "swimmer_fig3a_max_forward_x",
            "seed_lines",
            "swimmer",
            metric="max_forward_x",
            ref=FINISH_LINE_X,
            ref_label="finish line",
            ylabel="max forward distance (m)",
            title="Swimmer: max forward torso x since the start of training (Fig. 3a)",
        ),
        FigureSpec(
            "swimmer_fig6_bands",
            "seed_bands",
            "swimmer",
            low="epoch_min_x",
            high="epoch_max_x",
            ref=FINISH_LINE_X,
            ref_label="finish line",
            ylabel="torso x (m)",
            title="Swimmer: min..max torso x of each epoch's training rollouts, one row per seed (Fig. 6)",
        ),
    ),
)
