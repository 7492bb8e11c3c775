"""MountainCarContinuous-v0, an SB3 sanity task beyond the paper whose sparse goal reward tests exploration:
SQL's tuned zoo settings (softq/configs/zoo.yaml) against SAC, TD3 and DDPG at rl-baselines3-zoo's
hyperparameters. Returns only; its tables are the analysis layer's zoo tables
(:mod:`experiments.analysis.zoo`)."""

from __future__ import annotations

from experiments.experiment import Experiment

EXPERIMENT = Experiment(
    name="mountaincar",
    description="MountainCarContinuous-v0, an SB3 sanity task: SQL's zoo settings against SAC, TD3, DDPG",
    paper_figures="beyond the paper",
    task="mountaincar",
)
