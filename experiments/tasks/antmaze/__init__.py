"""Ant in a two-passage maze, upper passage blocked (paper Sec. 5.2, Fig. 3b): does exploration find the
lower route? Its figure is a generic one (:class:`~experiments.analysis.figure_specs.FigureSpec`)."""

from __future__ import annotations

from experiments.analysis.figure_specs import FigureSpec
from experiments.experiment import Experiment
from softq.envs.ant import ANTMAZE_THRESHOLD

EXPERIMENT = Experiment(
    name="antmaze",
    description="Ant in a two-passage maze, upper passage blocked: does exploration find the lower route?",
    paper_figures="Fig. 3b",
    task="antmaze",
    metrics=f"{__name__}.training:AntMazeMetrics",
    figure_specs=(
        FigureSpec(
            "antmaze_fig3b_min_distance",
            "seed_lines",
            "antmaze",
            metric="min_distance_to_target",
            ref=ANTMAZE_THRESHOLD,
            ref_label="upper-passage threshold",
            ylabel="min distance to target (m)",
            title="Ant maze: min distance to the target since the start of training (Fig. 3b)",
        ),
    ),
)
