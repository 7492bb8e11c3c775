"""Fine-tuning pretrained ant policies on a wide and a narrow hallway and a U-maze (paper Sec. 5.3, Fig. 5).

Each ``*_pretrained`` algo starts from the pretraining run of the same seed (task file ``init_from``);
SQL's temperature and noise-set schedules are :mod:`.training`'s epoch hook, and its task metrics log where
the deployed policy took the ant. Each finished run keeps its final weights (``artifacts/model.zip``). Fig. 5
is a generic figure.
"""

from __future__ import annotations

from experiments.analysis.figure_specs import FigureSpec
from experiments.experiment import Experiment

EXPERIMENT = Experiment(
    name="finetune",
    description="Pretrained ant policies fine-tuned on a wide and a narrow hallway and a U-maze",
    paper_figures="Fig. 4b-d, Fig. 5",
    task="finetune",
    metrics=f"{__name__}.training:FinetuneMetrics",
    epoch_hook=f"{__name__}.training:apply_schedule",
    write_artifacts=f"{__name__}.training:write_artifacts",
    figure_specs=(
        FigureSpec(
            "finetune_fig5_discounted_return",
            "mean_std",
            "finetune",
            metric="eval_discounted_return_deployed",
            ylabel="average discounted return",
            title="Fine-tuning: discounted return of the deployed policy, mean +- 1 std over seeds (Fig. 5)",
        ),
    ),
)
