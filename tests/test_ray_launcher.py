"""The Ray launcher against a real local cluster: start a head on 127.0.0.1, run a smoke sweep through
it, check every run landed in the usual layout, stop the cluster."""

import shutil
import socket
import subprocess
import tempfile

import pytest

from experiments import layout
from experiments.cli import main
from experiments.registry import EXPERIMENTS

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
        ray_cli,
        "start",
        "--head",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--num-cpus=2",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
    ]
    subprocess.run(start, check=True, capture_output=True, timeout=120)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        import ray

        ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_smoke_sweep_of_every_experiment_through_a_local_ray_cluster(tmp_path, ray_head):
    """The smoke profile of every registered experiment and algorithm, sent as Ray tasks (in dependency
    stages: pretraining before fine-tuning), lands in the usual layout."""
    out = tmp_path / "results"
    assert (
        main(
            [
                "run",
                *EXPERIMENTS,
                "--profile",
                "smoke",
                "--launcher",
                "ray",
                "--address",
                ray_head,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    for name, experiment in EXPERIMENTS.items():
        budget = experiment.config.budget("smoke")
        for env in experiment.config.envs:
            for algo in experiment.algos:
                for seed in budget.seeds:
                    folder = layout.run_dir(out, name, env, algo, seed)
                    assert '"status": "finished"' in (folder / layout.MANIFEST).read_text(), folder
                    assert len((folder / layout.PROGRESS).read_text().splitlines()) == 1 + budget.n_epochs
