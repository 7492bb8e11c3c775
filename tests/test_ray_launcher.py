"""The Ray launcher against a real local cluster: start a head on 127.0.0.1, run a smoke sweep through
it, check every run landed in the usual layout, stop the cluster."""

import shutil
import socket
import subprocess
import tempfile

import pytest

from experiments import layout
from experiments.launchers import launch
from experiments.runner import RunSpec

pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head():
    ray_cli = shutil.which("ray")
    assert ray_cli, "the ray command is not on PATH"
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's Unix socket paths must fit 107 bytes
    start = [
        ray_cli, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
        "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}",
    ]
    subprocess.run(start, check=True, capture_output=True, timeout=120)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        import ray

        ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_smoke_sweep_through_a_local_ray_cluster(tmp_path, ray_head):
    specs = [RunSpec("multigoal", algo, 0, "smoke") for algo in ("sql", "ddpg", "sac")]
    outcomes = launch(specs, tmp_path / "results", launcher="ray", address=ray_head)
    assert sorted(o.spec.algo for o in outcomes) == ["ddpg", "sac", "sql"]
    for spec in specs:
        folder = layout.run_dir(tmp_path / "results", "multigoal", "softq/MultiGoal-v0", spec.algo, 0)
        assert '"status": "finished"' in (folder / layout.MANIFEST).read_text()
        assert len((folder / layout.PROGRESS).read_text().splitlines()) == 1 + 3
