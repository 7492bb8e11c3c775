"""What a manifest records about where and with what a run ran."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import torch as th

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_PATHS = ("softq", "baselines", "experiments", "pyproject.toml")  # results/ changing is not "dirty"
PACKAGES = ("softq", "torch", "stable-baselines3", "gymnasium", "mujoco", "numpy", "pandas")


def git_state() -> dict[str, object]:
    """Commit and whether the source differs from it; ``None`` values outside a git checkout."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--", *SOURCE_PATHS))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def hardware() -> dict[str, object]:
    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": th.get_num_threads(),
        "gpu": th.cuda.get_device_name(0) if th.cuda.is_available() else None,
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
