"""Maximum-entropy pretraining on the ant (paper Sec. 5.3, Fig. 4a and Fig. 7).

:mod:`.training` writes the artifacts, :mod:`.figures` draws Fig. 7.

Per finished run, ``artifacts/`` holds
- ``model.zip`` (:data:`experiments.layout.WEIGHTS`): the policy weights the fine-tuning runs of the same
  seed start from (:func:`experiments.models.save_weights`: online networks only, about 0.2 MB for SQL
  at 2 x 128);
- ``com_traces.csv``: overhead traces of :data:`N_TRACES` rollouts of the policy as it acts (SQL's
  sampler with fresh noise, SAC's Gaussian, DDPG's actor without its noise) from the start,
  columns ``rollout, t, x, y``: the planar position of the ant's centre of mass (the env's ``com_x``,
  ``com_y``), the body the speed reward pays for.

Fig. 7: rows = seeds, columns = SQL's temperature alpha (10, 1, 0.1, 0.01, read from each run's
reward_scale = 1 / alpha), then DDPG and SAC if they ran.
"""

from __future__ import annotations

from experiments.analysis.figure_specs import FigureSpec
from experiments.experiment import Experiment

N_TRACES = 5
TRACES = "com_traces.csv"

EXPERIMENT = Experiment(
    name="pretrain",
    description="Ant in an open arena, reward = speed in any direction: max-ent pretraining (alpha sweep)",
    paper_figures="Fig. 4a, Fig. 7",
    task="pretrain",
    metrics=f"{__name__}.training:PretrainMetrics",
    write_artifacts=f"{__name__}.training:write_artifacts",
    figures=(f"{__name__}.figures:figure_7",),
    figure_specs=(
        FigureSpec(
            "pretrain_distance",
            "mean_std",
            "pretrain",
            metric="distance_exploring",
            ylabel="distance from the start (m)",
            title="Ant pretraining: distance travelled by evaluation rollouts of the policy as it acts",
        ),
    ),
)
