"""softq: reference PyTorch soft Q-learning (Haarnoja et al., ICML 2017) as a stable-baselines3 algorithm.

``import softq`` registers the paper's tasks as gymnasium envs (``softq/MultiGoal-v0``, ...).
"""

from softq import envs  # noqa: F401  (registers the env ids)
from softq.policies import MultiInputSQLPolicy, SQLPolicy
from softq.sql import SQL, load_presets

__version__ = "0.1.0"
__all__ = ["SQL", "MultiInputSQLPolicy", "SQLPolicy", "load_presets", "__version__"]
