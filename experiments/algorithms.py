"""The suite's algorithms, in one table: what a task file's ``algorithm:`` may name, which class it builds,
where its named presets come from, its colour in every figure and whether tables compare SQL against it.

Adding an algorithm is one row here (plus its class, e.g. in ``baselines/``, and its entries in the task
files). The table names classes and preset loaders as ``"module:attribute"`` strings, imported only when
a model is built (:func:`experiments.models.algorithm_class`): the analysis layer reads colours and roles
from this module without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments import refs


@dataclass(frozen=True)
class Algorithm:
    name: str  # the key task files use (``algorithm: <name>``, or an algo label of that name)
    cls: str  # "module:Class" of the SB3 algorithm class
    colour: int  # index into seaborn's "colorblind" palette: the learner looks the same in every figure
    baseline: bool  # tables report SQL's probability of improvement over it
    presets: str | None = None  # "module:function" returning {preset name: constructor arguments}

    def load_class(self) -> type:
        return refs.load(self.cls)

    def load_presets(self) -> dict[str, dict[str, Any]]:
        """The named presets a task file's ``preset:`` entry picks from; {} for an algorithm without."""
        return {} if self.presets is None else refs.load(self.presets)()


# Order matters where a class derives from another's: models.algorithm_key takes the first match, so
# DDPG (a TD3 subclass in SB3) comes before TD3.
ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("sql", "softq:SQL", colour=0, baseline=False, presets="softq:load_presets"),
        Algorithm("ddpg", "baselines:HardTargetDDPG", colour=3, baseline=True),
        Algorithm("sac", "baselines:SAC", colour=2, baseline=True),
        Algorithm("td3", "baselines:TD3", colour=4, baseline=True),
    )
}

BASELINES: tuple[str, ...] = tuple(name for name, a in ALGORITHMS.items() if a.baseline)
