"""LunarLanderContinuous-v3, an SB3 sanity task beyond the paper with a shaped reward and a 2-D action:
SQL's settings (softq/configs/zoo.yaml once its sweep has run) against SAC, TD3 and DDPG at
rl-baselines3-zoo's hyperparameters. Returns only; its tables are the analysis layer's zoo tables
(:mod:`experiments.analysis.zoo`)."""

from __future__ import annotations

from experiments.experiment import Experiment

EXPERIMENT = Experiment(
    name="lunarlander",
    description="LunarLanderContinuous-v3, an SB3 sanity task: SQL's zoo settings against SAC, TD3, DDPG",
    paper_figures="beyond the paper",
    task="lunarlander",
)
