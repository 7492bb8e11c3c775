"""References to code by name (``"module:attribute"``), imported on first use.

The algorithm table and the experiment registry name classes and functions this way so that reading them
imports nothing heavy: ``plot``, ``tables`` and ``verify`` never import torch, and training workers never
import matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any


def load(ref: Any) -> Any:
    """The object ``ref`` names if it is a ``"module:attribute"`` string, else ``ref`` itself (a class or
    function given directly, e.g. by a test)."""
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    if not name:
        raise ValueError(f"a reference is 'module:attribute', got {ref!r}")
    return getattr(importlib.import_module(module), name)
