"""Statistics over seeds: mean/std, bootstrap intervals, Wilson intervals, IQM, probability of improvement,
and exact or permutation tests (Fisher, Mann-Whitney, Jonckheere-Terpstra) for small numbers of seeds.

Everything random takes a ``seed`` and draws from its own ``numpy.random.Generator``, so the same inputs give
the same numbers.

Stratified bootstrap: rliable 1.2.0's ``library`` module (``rly.get_interval_estimates``) needs ``arch``,
whose 7.x releases fail to import under pandas 3 (``deprecate_kwarg`` signature change).
:func:`stratified_bootstrap_ci` therefore implements rliable's stratified bootstrap (resample runs with
replacement independently within each task, percentile interval) in numpy; ``backend="rliable"`` calls
``rly.get_interval_estimates`` instead where it imports. The aggregate statistics themselves are rliable's
(``metrics.aggregate_iqm``, ``metrics.probability_of_improvement``) whenever rliable is installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

DEFAULT_REPS = 2000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Interval:
    point: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def contains(self, x: float, tol: float = 1e-12) -> bool:
        return self.low - tol <= x <= self.high + tol


# ------------------------------------------------------------------------------------------------
# Over seeds of one configuration


def _clean(values) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    return a[~np.isnan(a)]


def mean_std(values) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof=1; NaN for one seed) and number of seeds (NaNs dropped)."""
    a = _clean(values)
    n = len(a)
    if n == 0:
        return math.nan, math.nan, 0
    return float(a.mean()), float(a.std(ddof=1)) if n > 1 else math.nan, n


def bootstrap_ci(
    values,
    reps: int = DEFAULT_REPS,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Interval:
    """Percentile bootstrap interval of the mean (or ``statistic``, applied along axis 1) over seeds.

    With one seed the interval is the point; with none, all NaN.
    """
    a = _clean(values)
    stat = statistic if statistic is not None else (lambda x: x.mean(axis=1))
    if len(a) == 0:
        return Interval(math.nan, math.nan, math.nan)
    point = float(stat(a[None, :])[0])
    if len(a) == 1:
        return Interval(point, point, point)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(reps, len(a)))
    boot = stat(a[idx])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [alpha, 1.0 - alpha])
    return Interval(point, float(low), float(high))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion ``successes / n``.

    Bounds are exactly 0 when ``successes == 0`` and exactly 1 when ``successes == n``.
    """
    if n <= 0:
        return Interval(math.nan, math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, {n}], got {successes}")
    z = float(sps.norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high)


# ------------------------------------------------------------------------------------------------
# Comparing two algorithms


def _as_runs_by_tasks(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError("scores must be 1-D (runs) or 2-D (runs x tasks)")
    return a


def probability_of_improvement(x, y) -> float:
    """P(X > Y) + 0.5 P(X = Y) for a random run of X against one of Y, averaged over tasks.

    1-D inputs are runs of one task. 2-D inputs are runs x tasks (same tasks, same order). Per task this is
    the Mann-Whitney U statistic divided by n*m, as in rliable's ``metrics.probability_of_improvement``.
    """
    a, b = _as_runs_by_tasks(x), _as_runs_by_tasks(y)
    if a.shape[1] != b.shape[1]:
        raise ValueError("x and y must have the same number of tasks")
    per_task = []
    for t in range(a.shape[1]):
        xa, yb = _clean(a[:, t]), _clean(b[:, t])
        if len(xa) == 0 or len(yb) == 0:
            return math.nan
        diff = xa[:, None] - yb[None, :]
        per_task.append(float(np.mean((diff > 0) + 0.5 * (diff == 0))))
    return float(np.mean(per_task))


def probability_of_improvement_ci(
    x, y, reps: int = DEFAULT_REPS, confidence: float = 0.95, seed: int = DEFAULT_SEED
) -> Interval:
    """Probability of improvement of X over Y with a percentile bootstrap interval.

    The runs of X and of Y are resampled independently (and, for several tasks, within each task), as
    rliable's ``StratifiedIndependentBootstrap`` does.
    """
    a, b = _as_runs_by_tasks(x), _as_runs_by_tasks(y)
    point = probability_of_improvement(a, b)
    if math.isnan(point):
        return Interval(math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    cols_a = [_clean(a[:, t]) for t in range(a.shape[1])]
    cols_b = [_clean(b[:, t]) for t in range(b.shape[1])]
    boot = np.zeros(reps)
    for xa, yb in zip(cols_a, cols_b, strict=True):
        ia = rng.integers(0, len(xa), size=(reps, len(xa)))
        ib = rng.integers(0, len(yb), size=(reps, len(yb)))
        ra, rb = xa[ia], yb[ib]  # reps x n, reps x m
        diff = ra[:, :, None] - rb[:, None, :]
        boot += np.mean((diff > 0) + 0.5 * (diff == 0), axis=(1, 2))
    boot /= len(cols_a)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [alpha, 1.0 - alpha])
    return Interval(point, float(low), float(high))


# ------------------------------------------------------------------------------------------------
# Exact and permutation tests (one-sided; valid at any number of seeds)


@dataclass(frozen=True)
class OneSided:
    """The p-values of one statistic against both one-sided alternatives: ``greater`` (the first sample,
    or the trend, goes up) and ``less`` (it goes down)."""

    greater: float
    less: float


def fisher_exact(successes_a: int, n_a: int, successes_b: int, n_b: int) -> OneSided:
    """Fisher's exact test on a 2 x 2 table of success counts: ``greater`` is P(as many or more of A's
    successes | the margins), the evidence that A's success rate exceeds B's; ``less`` the reverse."""
    if n_a <= 0 or n_b <= 0:
        return OneSided(math.nan, math.nan)
    table = [[successes_a, n_a - successes_a], [successes_b, n_b - successes_b]]
    return OneSided(
        float(sps.fisher_exact(table, alternative="greater").pvalue),
        float(sps.fisher_exact(table, alternative="less").pvalue),
    )


def mann_whitney_exact(x, y) -> OneSided:
    """Exact one-sided p-values of the Mann-Whitney U of ``x`` against ``y``: ``greater`` is P(U >= observed)
    over all C(n + m, n) equally likely splits of the pooled values into samples of sizes n and m, ``less``
    P(U <= observed). Ties get midranks and the null distribution is that of the tied ranks (the permutation
    distribution, computed exactly by counting subsets per rank sum), so it stays exact with ties."""
    a, b = _clean(x), _clean(y)
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return OneSided(math.nan, math.nan)
    doubled = np.rint(2.0 * sps.rankdata(np.concatenate([a, b]))).astype(int)  # midranks x 2: integers
    observed = int(doubled[:n].sum())
    # ways[k][s]: how many k-subsets of the values seen so far have doubled rank sum s
    ways = [[0] * (int(doubled.sum()) + 1) for _ in range(n + 1)]
    ways[0][0] = 1
    for r in doubled:
        for k in range(n - 1, -1, -1):
            row, up = ways[k], ways[k + 1]
            for s, count in enumerate(row):
                if count:
                    up[s + r] += count
    total = math.comb(n + m, n)
    at_least = sum(ways[n][observed:])
    at_most = sum(ways[n][: observed + 1])
    return OneSided(at_least / total, at_most / total)


def trend_concordance(groups) -> float:
    """Jonckheere-Terpstra statistic scaled to [0, 1]: over every pair of groups i < j (in the given order)
    and every pair of their values, the fraction where the later group's value is higher (ties count one
    half). 1: every value increases along the order; 0.5: no trend; 0: every value decreases."""
    cols = [_clean(g) for g in groups]
    pairs = [(i, j) for i in range(len(cols)) for j in range(i + 1, len(cols))]
    if any(len(c) == 0 for c in cols) or not pairs:
        return math.nan
    up = sum(
        float(np.sum((cols[j][None, :] > cols[i][:, None]) + 0.5 * (cols[j][None, :] == cols[i][:, None])))
        for i, j in pairs
    )
    return up / sum(len(cols[i]) * len(cols[j]) for i, j in pairs)


def trend_test(groups, reps: int = 20000, seed: int = DEFAULT_SEED) -> tuple[float, OneSided]:
    """Jonckheere-Terpstra test of a monotone trend across ordered groups (e.g. seeds at alpha = 10, 1, 0.1,
    0.01): :func:`trend_concordance` and its permutation p-values, ``greater`` for an increasing trend and
    ``less`` for a decreasing one. Each of ``reps`` replicates shuffles all values across the groups (sizes
    kept) with a generator seeded by ``seed``; p = (1 + replicates at least as extreme) / (1 + reps)."""
    cols = [_clean(g) for g in groups]
    point = trend_concordance(cols)
    if math.isnan(point):
        return point, OneSided(math.nan, math.nan)
    pooled = np.concatenate(cols)
    bounds = np.cumsum([0] + [len(c) for c in cols])
    shuffled = np.random.default_rng(seed).permuted(np.tile(pooled, (reps, 1)), axis=1)
    parts = [shuffled[:, bounds[g] : bounds[g + 1]] for g in range(len(cols))]
    up = np.zeros(reps)
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            diff = parts[j][:, None, :] - parts[i][:, :, None]
            up += np.sum((diff > 0) + 0.5 * (diff == 0), axis=(1, 2))
    observed = point * sum(
        len(cols[i]) * len(cols[j]) for i in range(len(cols)) for j in range(i + 1, len(cols))
    )
    tol = 1e-9
    greater = (1 + int(np.sum(up >= observed - tol))) / (1 + reps)
    less = (1 + int(np.sum(up <= observed + tol))) / (1 + reps)
    return point, OneSided(greater, less)


# ------------------------------------------------------------------------------------------------
# Across tasks (rliable)


def aggregate_iqm(scores) -> float:
    """Interquartile mean of all scores (runs x tasks, pooled), rliable's ``metrics.aggregate_iqm``."""
    try:
        from rliable import metrics

        return float(metrics.aggregate_iqm(np.asarray(scores, dtype=float)))
    except ImportError:  # same definition: 25% trimmed mean of the pooled scores
        return float(sps.trim_mean(np.asarray(scores, dtype=float), proportiontocut=0.25, axis=None))


def _rliable_library():
    from rliable import library  # may fail: arch 7.x does not import under pandas 3

    return library


def rliable_available() -> bool:
    try:
        _rliable_library()
    except Exception:
        return False
    return True


def _task_columns(scores) -> list[np.ndarray]:
    """A runs x tasks matrix, a 1-D array (one task) or a list of per-task arrays -> per-task arrays."""
    if isinstance(scores, list | tuple):
        cols = [_clean(c) for c in scores]
    else:
        a = _as_runs_by_tasks(scores)
        cols = [_clean(a[:, t]) for t in range(a.shape[1])]
    if not cols or any(len(c) == 0 for c in cols):
        raise ValueError("every task needs at least one run")
    return cols


def _stratified_resample(cols: list[np.ndarray], reps: int, rng: np.random.Generator) -> np.ndarray:
    """reps x (total runs): each task's runs resampled with replacement, independently, then pooled."""
    parts = [c[rng.integers(0, len(c), size=(reps, len(c)))] for c in cols]
    return np.concatenate(parts, axis=1)


def stratified_bootstrap_ci(
    score_dict: Mapping[str, object],
    func: Callable[[np.ndarray], float] = aggregate_iqm,
    reps: int = DEFAULT_REPS,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
    backend: str = "numpy",
) -> dict[str, Interval]:
    """Stratified-bootstrap interval of ``func`` (default IQM) of each algorithm's scores across tasks.

    ``score_dict`` maps algo -> runs x tasks matrix (or a list of per-task arrays when tasks have different
    numbers of runs). ``func`` gets the pooled 1-D scores of all tasks (IQM, mean and median are pooled
    statistics in rliable too).
    ``backend="numpy"``: each replicate resamples the runs of every task with replacement, independently per
    task (rliable's StratifiedBootstrap without task bootstrap); percentile interval.
    ``backend="rliable"``: ``rly.get_interval_estimates`` with a seeded RandomState (rectangular input only;
    needs an importable ``rliable.library``).
    Algorithms are processed in sorted order, each with its own generator derived from ``seed``.
    """
    out: dict[str, Interval] = {}
    alpha = (1.0 - confidence) / 2.0
    for i, key in enumerate(sorted(score_dict)):
        cols = _task_columns(score_dict[key])
        pooled = np.concatenate(cols)
        point = float(func(pooled))
        if backend == "rliable":
            if len({len(c) for c in cols}) != 1:
                raise ValueError("the rliable backend needs the same number of runs on every task")
            rly = _rliable_library()
            matrix = np.stack(cols, axis=1)
            _, ivals = rly.get_interval_estimates(
                {key: matrix},
                lambda s: np.array([func(np.ravel(s))]),
                reps=reps,
                confidence_interval_size=confidence,
                random_state=np.random.RandomState(seed + i),
            )
            low, high = (float(v) for v in np.asarray(ivals[key]).ravel()[:2])
        elif backend == "numpy":
            rng = np.random.default_rng([seed, i])
            boot = np.array([func(r) for r in _stratified_resample(cols, reps, rng)])
            low, high = (float(v) for v in np.quantile(boot, [alpha, 1.0 - alpha]))
        else:
            raise ValueError(f"unknown backend {backend!r}")
        out[key] = Interval(point, low, high)
    return out


def performance_profile(
    score_dict: Mapping[str, object],
    taus,
    reps: int = DEFAULT_REPS,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run-score distribution (fraction of all runs on all tasks with score > tau), stratified-bootstrap
    bands.

    Returns ``algo -> (profile, low, high)``, arrays over ``taus``; as rliable's
    ``create_performance_profile`` with ``use_score_distribution=True``.
    """
    taus = np.asarray(taus, dtype=float)
    alpha = (1.0 - confidence) / 2.0
    out = {}
    for i, key in enumerate(sorted(score_dict)):
        cols = _task_columns(score_dict[key])
        pooled = np.concatenate(cols)
        profile = (pooled[:, None] > taus[None, :]).mean(axis=0)
        rng = np.random.default_rng([seed, i, 1])
        resampled = _stratified_resample(cols, reps, rng)
        boot = (resampled[:, :, None] > taus[None, None, :]).mean(axis=1)
        low, high = np.quantile(boot, [alpha, 1.0 - alpha], axis=0)
        out[key] = (profile, low, high)
    return out


def minmax_normalise(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """(v - low) / (high - low); all zeros when high == low."""
    values = np.asarray(values, dtype=float)
    if not high > low:
        return np.zeros_like(values)
    return (values - low) / (high - low)
