"""What a manifest records about where and with what a run ran."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections import Counter
from pathlib import Path

from experiments import layout
from experiments.run_files import find_run_dirs, read_manifest_file

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_PATHS = ("softq", "baselines", "experiments", "pyproject.toml")  # results/ changing is not "dirty"
PACKAGES = ("softq", "torch", "stable-baselines3", "gymnasium", "mujoco", "numpy", "pandas")
# The packages whose version can change what a run computes (pandas only reads and writes tables).
NUMERIC_PACKAGES = ("torch", "stable-baselines3", "gymnasium", "mujoco", "numpy")
LOCK_FILE = "requirements.lock"  # the exact environment the committed results were produced with


def git_state() -> dict[str, object]:
    """Commit and whether the source differs from it; ``None`` values outside a git checkout."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

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


def version_differences(root: str | Path) -> list[str]:
    """One line per (package of :data:`NUMERIC_PACKAGES`, version) that finished runs under ``root``
    recorded and that differs from the installed version: regenerated outputs still match, but a rerun
    may not."""
    recorded: dict[str, Counter] = {name: Counter() for name in NUMERIC_PACKAGES}
    for folder in find_run_dirs(root):
        manifest, _ = read_manifest_file(folder / layout.MANIFEST)
        if manifest is not None and manifest["status"] == layout.FINISHED:
            versions = manifest.get("versions") or {}
            for name in NUMERIC_PACKAGES:
                if versions.get(name):
                    recorded[name][versions[name]] += 1
    installed = package_versions()
    return [
        f"{count} run(s) under {root} recorded {name} {version}, but {installed[name]} is installed; "
        f"a rerun may differ (pip install -r {LOCK_FILE} installs the versions the committed runs used)"
        for name in NUMERIC_PACKAGES
        for version, count in sorted(recorded[name].items())
        if version != installed[name]
    ]


def hardware() -> dict[str, object]:
    import torch as th  # here, so that reading manifests does not load torch

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
