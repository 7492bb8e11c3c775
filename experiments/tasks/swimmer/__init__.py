"""Undirected swimmer with a forward finish line (paper Sec. 5.2, Fig. 3a and 6): does exploration find the
bonus? Its figures are generic ones (:class:`~experiments.analysis.figure_specs.FigureSpec`); every distance
is the x of the swimmer's centre of mass (COM)."""

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
            title="Swimmer: max forward centre-of-mass x since the start of training (Fig. 3a)",
        ),
        FigureSpec(
            "swimmer_fig6_bands",
            "seed_bands",
            "swimmer",
            low="epoch_min_x",
            high="epoch_max_x",
            ref=FINISH_LINE_X,
            ref_label="finish line",
            ylabel="centre-of-mass x (m)",
            title="Swimmer: min..max centre-of-mass x of each epoch's training rollouts, one row per seed "
            "(Fig. 6)",
        ),
        FigureSpec(
            "swimmer_travel_ratio",
            "seed_lines",
            "swimmer",
            metric="eval_travel_ratio_deployed",
            ylabel="|net displacement| / path length",
            title="Swimmer: how much of the centre-of-mass path of the deployed policy's evaluation episodes "
            "is net travel (1: swims one way; near 0: back and forth)",
        ),
        FigureSpec(
            "swimmer_eval_end_x",
            "seed_lines",
            "swimmer",
            metric="eval_end_x_deployed",
            ref=FINISH_LINE_X,
            ref_label="finish line",
            ylabel="final centre-of-mass x (m)",
            title="Swimmer: where the deployed policy's evaluation episodes end (mean over episodes)",
        ),
    ),
)
