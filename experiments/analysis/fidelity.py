"""Sampler fidelity: does SQL's sampling network draw from the policy the paper defines, exp(Q(s, .) / alpha)
(eq. 6, Sec. 3.2)?

For a run with a 2-D action space (multi-goal), at each state of ``artifacts/q_values.csv`` (Q on a
31 x 31 grid over the action square; SQL's Q is Q_paper / alpha, so exp(Q) is the target density) against
the sampler's 100 actions of ``artifacts/action_samples.csv``:

- reference draws from a gridded density: a grid node is drawn with probability proportional to its
  density times its cell's area (cells are centred on the nodes and cut at the box's edges), then a point
  uniformly inside the cell;
- the statistic is the unbiased squared maximum mean discrepancy MMD^2_u (Gretton et al. 2012, eq. 3) with
  a Gaussian kernel exp(-||x - y||^2 / (2 * 0.25^2)) between the sampler's actions and the reference draws;
  its expectation is 0 when the sampler draws from the reference density;
- the finite-sample floor is the 95th percentile of MMD^2_u between exact draws of the sampler's size and
  the same reference draws: a sampler at or below it cannot be told apart from an exact one;
- uniform actions of the sampler's size give the MMD^2_u of a sampler that ignores Q.

The constants are fixed here before any run is scored with them (experiments/claims.py says which verdicts
read them). numpy only, deterministic: every draw comes from generators seeded by the constants below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KERNEL_BANDWIDTH = 0.25  # sigma of the Gaussian kernel, in action units (the box is [-1, 1]^2)
REFERENCE_DRAWS = 1500
NULL_REPEATS = 200
FLOOR_QUANTILE = 0.95
FIDELITY_SEED = 20261206
TANH_CORRECTION_EPS = 1e-6  # softq.policies.TANH_CORRECTION_EPS (a test keeps the two equal)


def gaussian_kernel(x: np.ndarray, y: np.ndarray, bandwidth: float = KERNEL_BANDWIDTH) -> np.ndarray:
    sq = (x**2).sum(1)[:, None] + (y**2).sum(1)[None, :] - 2.0 * x @ y.T
    return np.exp(-np.maximum(sq, 0.0) / (2.0 * bandwidth**2))


def within_sample_mean(x: np.ndarray) -> float:
    """The mean of k(x_i, x_j) over i != j: the within-sample term of MMD^2_u."""
    k = gaussian_kernel(x, x)
    return float((k.sum() - np.trace(k)) / (len(x) * (len(x) - 1)))


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, k_yy_mean: float | None = None) -> float:
    """MMD^2_u between samples ``x`` (n, d) and ``y`` (m, d); ``k_yy_mean`` (:func:`within_sample_mean`
    of y) can be passed when y is reused."""
    if k_yy_mean is None:
        k_yy_mean = within_sample_mean(y)
    return float(within_sample_mean(x) + k_yy_mean - 2.0 * gaussian_kernel(x, y).mean())


@dataclass(frozen=True)
class GridDensity:
    """An unnormalised density on the nodes of a square grid over [-1, 1]^2 (``axis`` per dimension)."""

    axis: np.ndarray  # node coordinates, increasing, from -1 to 1
    density: np.ndarray  # (len(axis) for y, len(axis) for x): density[i, j] at (axis[j], axis[i])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        edges = np.concatenate([[self.axis[0]], (self.axis[1:] + self.axis[:-1]) / 2, [self.axis[-1]]])
        widths = np.diff(edges)
        weights = self.density * widths[:, None] * widths[None, :]
        cells = rng.choice(weights.size, size=n, p=(weights / weights.sum()).ravel())
        row, col = np.divmod(cells, len(self.axis))
        x = edges[col] + rng.uniform(size=n) * widths[col]
        y = edges[row] + rng.uniform(size=n) * widths[row]
        return np.stack([x, y], axis=1)


def target_densities(axis: np.ndarray, q: np.ndarray) -> dict[str, GridDensity]:
    """The references a sampler is scored against, from Q on the grid (rows: action y, columns: action x):
    ``exp_q`` (the paper's policy), ``squash`` (exp(Q) * prod_d (1 - a_d^2 + eps), what the 2018 code's SVGD
    target is) and ``uniform``. The 2017 code's clip scheme targets exp(Q) on the box, ``exp_q`` itself."""
    exp_q = np.exp(q - q.max())
    a_x, a_y = np.meshgrid(axis, axis)
    jacobian = (1.0 - a_x**2 + TANH_CORRECTION_EPS) * (1.0 - a_y**2 + TANH_CORRECTION_EPS)
    return {
        "exp_q": GridDensity(axis, exp_q),
        "squash": GridDensity(axis, exp_q * jacobian),
        "uniform": GridDensity(axis, np.ones_like(exp_q)),
    }


@dataclass(frozen=True)
class Fidelity:
    """MMD^2_u of the sampler against exp(Q) and against its scheme's own target, of uniform actions against
    exp(Q), and the finite-sample floor against exp(Q)."""

    sampler: float
    sampler_scheme: float
    uniform: float
    floor: float


def sampler_fidelity(
    axis: np.ndarray, q: np.ndarray, actions: np.ndarray, scheme: str, state_index: int
) -> Fidelity:
    """Score ``actions`` (n, 2) drawn by a sampler whose bounding scheme is ``scheme`` ("squash" or "clip")
    against Q on the grid at one state."""
    if scheme not in ("squash", "clip"):
        raise ValueError(f"unknown action bounding scheme {scheme!r}")
    targets = target_densities(axis, q)
    rng = np.random.default_rng([FIDELITY_SEED, state_index])
    reference = targets["exp_q"].sample(REFERENCE_DRAWS, rng)
    k_yy_mean = within_sample_mean(reference)
    n = len(actions)
    null = [mmd2_unbiased(targets["exp_q"].sample(n, rng), reference, k_yy_mean) for _ in range(NULL_REPEATS)]
    scheme_target = targets["squash"] if scheme == "squash" else targets["exp_q"]
    scheme_reference = scheme_target.sample(REFERENCE_DRAWS, rng)
    return Fidelity(
        sampler=mmd2_unbiased(actions, reference, k_yy_mean),
        sampler_scheme=mmd2_unbiased(actions, scheme_reference),
        uniform=mmd2_unbiased(targets["uniform"].sample(n, rng), reference, k_yy_mean),
        floor=float(np.quantile(null, FLOOR_QUANTILE)),
    )
