"""pytest-benchmark: one gradient update of SQL against one of SB3's SAC, same batch and widths, 1 thread.

Shapes: swimmer-sized (obs 8, act 2) and ant-sized (obs 29 as our ant tasks, and 105 as Ant-v5 with contact
forces; act 8) inputs at the ``code`` preset (batch 128, 2 x 128, 16 value particles, 8 + 8 SVGD particles),
and ``large``: obs 8 at batch 256, 16 value particles and 16 + 16 SVGD particles (the settings of another
public PyTorch SQL). A 1024^3 float32 matmul gives the machine's own reference rate. SQL and SAC updates
alternate, round by round; each benchmark records the device, SQL's FLOP count (torch.profiler's count of
its matrix products), the achieved GFLOP/s, SAC's median time and the median of the per-round SQL/SAC
ratios in ``extra_info``; ``python -m tests.benchmarks.report`` (``tox -e benchmarks``) turns the JSON into
the table in results/benchmarks/. Run with ``pytest tests/benchmarks --benchmark-only``; skipped otherwise.
"""

import statistics
import time

import pytest
import torch as th
from randombox import RandomBoxEnv
from stable_baselines3 import SAC
from torch.profiler import ProfilerActivity, profile

from softq import SQL

NET_ARCH = [128, 128]
# shape -> (obs dim, act dim, batch size, extra SQL arguments)
SHAPES = {
    "swimmer": (8, 2, 128, {}),
    "ant29": (29, 8, 128, {}),
    "ant105": (105, 8, 128, {}),
    "large": (8, 2, 256, {"value_n_particles": 16, "kernel_n_particles": 32}),
}
DEVICES = ["cpu"] + (["cuda"] if th.cuda.is_available() else [])
MATMUL_SIZE = 1024
WARMUP_ROUNDS, ROUNDS = 20, 200


def _model(algo: str, shape: str, device: str):
    obs_dim, act_dim, batch_size, sql_extra = SHAPES[shape]
    env = RandomBoxEnv(obs_dim, act_dim)
    common = dict(
        learning_starts=batch_size,
        batch_size=batch_size,
        policy_kwargs=dict(net_arch=NET_ARCH),
        seed=0,
        device=device,
    )
    if algo == "sql":
        model = SQL.from_preset("code", "MlpPolicy", env, **common, **sql_extra)
    else:
        model = SAC("MlpPolicy", env, **common)
    model.learn(2 * batch_size)  # fills the buffer past learning_starts
    return model


def update_mflop(model) -> float:
    """MFLOP of one update: the multiply-adds of its matrix products, as torch.profiler counts them."""
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        model.train(gradient_steps=1, batch_size=model.batch_size)
    return sum(event.flops for event in prof.key_averages()) / 1e6


def _synchronize(device: str) -> None:
    if device == "cuda":
        th.cuda.synchronize()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_sql_update_against_sac(benchmark, shape, device):
    """pytest-benchmark times SQL's update; one SAC update runs (and is timed) before each round, so the
    two alternate and their ratio is taken round by round, which cancels the machine's drift."""
    sql, sac = _model("sql", shape, device), _model("sac", shape, device)
    mflop = update_mflop(sql)
    sac_seconds: list[float] = []

    def sac_update():
        start = time.perf_counter()
        sac.train(gradient_steps=1, batch_size=sac.batch_size)
        _synchronize(device)
        sac_seconds.append(time.perf_counter() - start)

    def sql_update():
        sql.train(gradient_steps=1, batch_size=sql.batch_size)
        _synchronize(device)

    benchmark.group = f"update-{shape}-{device}"
    benchmark.pedantic(sql_update, setup=sac_update, warmup_rounds=WARMUP_ROUNDS, rounds=ROUNDS, iterations=1)
    sql_seconds, sac_seconds = (
        benchmark.stats.stats.data,
        sac_seconds[WARMUP_ROUNDS:],
    )  # setup runs every round
    benchmark.extra_info.update(
        algo="sql",
        shape=shape,
        device=device,
        mflop=mflop,
        gflops=mflop / 1e3 / statistics.median(sql_seconds),
        sac_ms=statistics.median(sac_seconds) * 1e3,
        sql_over_sac=statistics.median(a / b for a, b in zip(sql_seconds, sac_seconds, strict=True)),
    )


@pytest.mark.parametrize("device", DEVICES)
def test_matmul_reference(benchmark, device):
    """The machine's own 1-thread float32 matmul rate, the reference for the update's efficiency."""
    a = th.randn(MATMUL_SIZE, MATMUL_SIZE, device=device)
    b = th.randn(MATMUL_SIZE, MATMUL_SIZE, device=device)
    mflop = 2 * MATMUL_SIZE**3 / 1e6
    benchmark.group = f"matmul-{device}"
    benchmark.extra_info.update(algo="matmul", shape=f"{MATMUL_SIZE}^3", device=device, mflop=mflop)

    def matmul():
        a @ b
        _synchronize(device)

    benchmark.pedantic(matmul, warmup_rounds=3, rounds=30, iterations=1)
    benchmark.extra_info["gflops"] = mflop / 1e3 / benchmark.stats.stats.median
