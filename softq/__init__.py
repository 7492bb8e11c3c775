"""softq: reference PyTorch soft Q-learning (Haarnoja et al., ICML 2017) as a stable-baselines3 algorithm.

``import softq`` registers the paper's tasks as gymnasium envs (``softq/MultiGoal-v0``, ...). The
algorithm (which needs torch) is imported on first use of ``softq.SQL`` and its siblings, so that code
reading only the envs' constants (the figures of the benchmark suite) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from softq import envs  # noqa: F401  (registers the env ids)

if TYPE_CHECKING:
    from softq.policies import MultiInputSQLPolicy, SQLPolicy
    from softq.sql import SQL, load_presets

__version__ = "0.1.0"
__all__ = ["SQL", "MultiInputSQLPolicy", "SQLPolicy", "load_presets", "__version__"]
_LAZY = {
    "SQL": "softq.sql",
    "load_presets": "softq.sql",
    "SQLPolicy": "softq.policies",
    "MultiInputSQLPolicy": "softq.policies",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'softq' has no attribute {name!r}")
