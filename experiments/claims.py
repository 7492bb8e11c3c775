"""The paper's claims (Haarnoja et al. 2017), each with a spec a machine can check against our runs.

Source: shared/reference/paper-digest.md section 4 (headline results) and 2.1-2.4 (experiments).
The paper publishes no absolute numbers for these figures, only proportions and orderings, so every spec
is a proportion, a threshold on a bounded diagnostic, or an ordering between two algorithms.

Algorithm names, metric columns and reductions are data here: change them in one place when the runner
names things differently. This module imports nothing from the analysis; ``experiments.analysis.scorecard``
evaluates the specs.

Reductions (how one run's curve becomes one number; see ``experiments.analysis.aggregate.Reduction``):
``final``, ``max``, ``min``, ``mean``, ``auc:<frac>`` (time-average over the first frac of the step budget).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True)
class RateSpec:
    """Fraction of ``algo``'s seeds whose reduced ``metric`` satisfies ``metric <op> threshold``;
    the paper's proportion is ``paper_rate``. Checked with a Wilson score interval."""

    algo: str
    metric: str
    reduction: str
    op: str
    threshold: float
    paper_rate: float

    kind = "rate"

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"op must be one of {sorted(OPS)}, got {self.op!r}")
        if not 0.0 <= self.paper_rate <= 1.0:
            raise ValueError("paper_rate is a proportion in [0, 1]")

    @property
    def algos(self) -> tuple[str, ...]:
        return (self.algo,)

    def success(self, value: float) -> bool:
        return bool(OPS[self.op](value, self.threshold))

    def condition(self) -> str:
        return f"{self.reduction} {self.metric} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class MeanSpec:
    """Mean over ``algo``'s seeds of the reduced ``metric`` is at least (``side="at_least"``) or at most
    (``side="at_most"``) ``bound``. Checked with a bootstrap interval of the mean."""

    algo: str
    metric: str
    reduction: str
    bound: float
    side: str = "at_least"

    def __post_init__(self):
        if self.side not in ("at_least", "at_most"):
            raise ValueError(f"side must be at_least or at_most, got {self.side!r}")

    @property
    def kind(self) -> str:
        return f"mean_{self.side}"

    @property
    def algos(self) -> tuple[str, ...]:
        return (self.algo,)

    def condition(self) -> str:
        sign = ">=" if self.side == "at_least" else "<="
        return f"mean {self.reduction} {self.metric} {sign} {self.bound:g}"


@dataclass(frozen=True)
class BetterSpec:
    """``algo``'s reduced ``metric`` is better than ``baseline``'s (higher, or lower when
    ``higher_is_better=False``), on each env of the experiment. Checked with the probability of
    improvement P(algo > baseline) and its bootstrap interval. ``expected_tasks``: how many envs the paper
    compares on (fewer of ours is noted)."""

    algo: str
    baseline: str
    metric: str
    reduction: str
    higher_is_better: bool = True
    expected_tasks: int | None = None

    kind = "better"

    @property
    def algos(self) -> tuple[str, ...]:
        return (self.algo, self.baseline)

    def condition(self) -> str:
        better = "higher" if self.higher_is_better else "lower"
        return f"P({self.algo} {better} {self.reduction} {self.metric} than {self.baseline}) > 0.5"


Spec = RateSpec | MeanSpec | BetterSpec


@dataclass(frozen=True)
class Claim:
    id: str
    experiment: str
    statement: str  # paraphrase of the paper's claim
    paper_value: str  # what the paper reports, as text; never used in "ours" columns
    source: str  # where in the paper
    spec: Spec

    @property
    def kind(self) -> str:
        return self.spec.kind


# Fine-tuning: "learns faster (higher average discounted return earlier)" made concrete as the time-average
# of the deployed policy's discounted return over the first half of the step budget.
FINETUNE_METRIC = "eval_discounted_return_deployed"
FINETUNE_REDUCTION = "auc:0.5"
FINETUNE_TASKS = 3  # wide hallway, narrow hallway, U-maze

CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="multigoal.sql_all_goals",
        experiment="multigoal",
        statement="SQL's stochastic policy reaches all four goals of the multi-goal environment.",
        paper_value="SQL trajectories end at all 4 goals",
        source="Sec. 5.1, Fig. 1",
        spec=MeanSpec(algo="sql", metric="goals_reached", reduction="final", bound=3.5, side="at_least"),
    ),
    Claim(
        id="multigoal.ddpg_one_goal",
        experiment="multigoal",
        statement="DDPG commits to a single goal.",
        paper_value="DDPG reaches 1 goal",
        source="Sec. 5.1",
        spec=MeanSpec(algo="ddpg", metric="goals_reached", reduction="final", bound=1.5, side="at_most"),
    ),
    Claim(
        id="swimmer.sql_crosses",
        experiment="swimmer",
        statement="Every SQL run explores both directions, finds the finish line and crosses it.",
        paper_value="100% of SQL runs cross the finish line",
        source="Sec. 5.2, Fig. 3a, Fig. 6",
        spec=RateSpec(
            algo="sql", metric="crossed_finish_line", reduction="max", op=">=", threshold=1, paper_rate=1.0
        ),
    ),
    Claim(
        id="swimmer.ddpg_crosses",
        experiment="swimmer",
        statement="Only some DDPG runs swim forward across the finish line; the rest settle on swimming backward.",
        paper_value="80% of DDPG runs cross the finish line (20% swim backward)",
        source="Sec. 5.2, Fig. 3a",
        spec=RateSpec(
            algo="ddpg", metric="crossed_finish_line", reduction="max", op=">=", threshold=1, paper_rate=0.8
        ),
    ),
    Claim(
        id="antmaze.sql_below_threshold",
        experiment="antmaze",
        statement="Every SQL run finds the lower passage: its minimum distance to the target goes below the "
        "upper-passage threshold.",
        paper_value="100% of SQL runs get below the threshold",
        source="Sec. 5.2, Fig. 3b",
        spec=RateSpec(
            algo="sql", metric="below_threshold", reduction="max", op=">=", threshold=1, paper_rate=1.0
        ),
    ),
    Claim(
        id="antmaze.ddpg_below_threshold",
        experiment="antmaze",
        statement="Only some DDPG runs find the lower passage.",
        paper_value="60% of DDPG runs get below the threshold",
        source="Sec. 5.2, Fig. 3b",
        spec=RateSpec(
            algo="ddpg", metric="below_threshold", reduction="max", op=">=", threshold=1, paper_rate=0.6
        ),
    ),
    Claim(
        id="finetune.sql_pretrained_beats_ddpg_scratch",
        experiment="finetune",
        statement="Fine-tuning the SQL max-ent pretrained policy gets higher average discounted return early in "
        "training than DDPG from scratch, on each of the wide hallway, narrow hallway and U-maze.",
        paper_value="SQL-pretrained above DDPG from scratch early in training on all 3 tasks (10 seeds)",
        source="Sec. 5.3, Fig. 5",
        spec=BetterSpec(
            algo="sql_pretrained",
            baseline="ddpg_scratch",
            metric=FINETUNE_METRIC,
            reduction=FINETUNE_REDUCTION,
            expected_tasks=FINETUNE_TASKS,
        ),
    ),
    Claim(
        id="finetune.sql_pretrained_beats_ddpg_pretrained",
        experiment="finetune",
        statement="Fine-tuning the SQL max-ent pretrained policy gets higher average discounted return early in "
        "training than fine-tuning a DDPG-pretrained policy, on each of the three tasks.",
        paper_value="SQL-pretrained above DDPG-pretrained early in training on all 3 tasks (10 seeds)",
        source="Sec. 5.3, Fig. 5",
        spec=BetterSpec(
            algo="sql_pretrained",
            baseline="ddpg_pretrained",
            metric=FINETUNE_METRIC,
            reduction=FINETUNE_REDUCTION,
            expected_tasks=FINETUNE_TASKS,
        ),
    ),
)


def claims_for(experiment: str, claims: tuple[Claim, ...] = CLAIMS) -> list[Claim]:
    return [c for c in claims if c.experiment == experiment]


def get_claim(claim_id: str, claims: tuple[Claim, ...] = CLAIMS) -> Claim:
    for c in claims:
        if c.id == claim_id:
            return c
    raise KeyError(claim_id)
