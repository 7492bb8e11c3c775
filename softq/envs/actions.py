"""The action check every softq env makes before stepping."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def checked_action(action, space: spaces.Box, env_name: str) -> np.ndarray:
    """``action`` as float64, clipped into ``space``; ValueError naming the env if its shape is wrong or
    it is not finite (finite values outside the box are clipped, as the public code's envs do)."""
    action = np.asarray(action, dtype=np.float64)
    if action.shape != space.shape:
        raise ValueError(f"{env_name} action must have shape {space.shape}, got {action.shape}")
    if not np.all(np.isfinite(action)):
        raise ValueError(f"{env_name} action must be finite, got {action}")
    return np.clip(action, space.low, space.high)
