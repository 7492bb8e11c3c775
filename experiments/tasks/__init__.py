"""The suite's tasks, one package each: ``experiments/tasks/<task>/``.

- ``__init__.py``: the task's :class:`~experiments.registry.Experiment` (``EXPERIMENT``: its task file,
  metrics, artifacts, hooks and figures, the code named by reference) and the constants both sides share
  (artifact file names, plotted states). It imports neither torch nor matplotlib.
- ``training.py``: what runs inside a training worker: the task's metrics, the artifacts a finished run
  writes, epoch hooks and finalize steps (torch, SB3; never matplotlib).
- ``figures.py``: the task's own figures from finished runs (matplotlib; never torch).

:mod:`experiments.registry` finds every package here. The hyperparameters are in
``experiments/hyperparams/<task>.yaml``.
"""
