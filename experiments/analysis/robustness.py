"""How robust each verdict is: every claim row checked again, by the same rule, under each alternative
measurement of :data:`experiments.claims.ALTERNATIVES` that changes something it reads.

An alternative changes a claim's spec (the ``final`` reduction of a per-epoch column, the threshold of a
condition on a :data:`~experiments.claims.SCALED_CONDITIONS` measure) and the runs' measures (a substitute
measure on some arms, the run-level measures at scaled :class:`~experiments.claims.Thresholds`). Where the
runs do not hold what an alternative reads, the row shows it as unavailable, with why; nothing is made up.
Also the diagnostics shown beside a verdict: each seed's runner-up prominence beside a Q-mode count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace

import pandas as pd

from experiments.analysis import aggregate, measures, scorecard, stats
from experiments.analysis.scorecard import ClaimResult, Outcome
from experiments.claims import (
    ALTERNATIVE_MEASURES,
    ALTERNATIVES,
    Q_MODE_RUNNER_UP,
    RUN_LABELS,
    RUN_MEASURES,
    SCALED_CONDITIONS,
    THRESHOLD_SCALES,
    THRESHOLDS,
    Alternative,
    Claim,
    Spec,
)

_RUN_LEVEL = set(RUN_MEASURES) | set(ALTERNATIVE_MEASURES)


def _arms(spec: Spec) -> set[str]:
    """Every run label a spec's arms can have."""
    return {label for algo in spec.algos for label in RUN_LABELS.get(algo, (algo,))}


def applies(alternative: Alternative, claim: Claim) -> bool:
    """Whether ``alternative`` changes a measure, reduction or condition ``claim`` reads."""
    spec = claim.spec
    read = [(m.metric, m.reduction) for m in spec.measured()] + [
        (c.metric, c.reduction) for c in spec.conditions()
    ]
    substituted = {metric for metric, _ in alternative.metrics}
    on_arms = alternative.algos is None or bool(_arms(spec) & set(alternative.algos))
    return (
        (alternative.reduction is not None and any(r == "final" and m not in _RUN_LEVEL for m, r in read))
        or (on_arms and any(m in substituted for m, _ in read))
        or (
            alternative.scale != 1.0
            and any(m in measures.THRESHOLD_MEASURES or m in SCALED_CONDITIONS for m, _ in read)
        )
    )


def _rewrite(part, alternative: Alternative):
    """``part`` (a spec or a condition) with the reduction and threshold ``alternative`` replaces."""
    changes = {}
    if alternative.reduction is not None and part.reduction == "final" and part.metric not in _RUN_LEVEL:
        changes["reduction"] = alternative.reduction
    if alternative.scale != 1.0 and hasattr(part, "threshold") and part.metric in SCALED_CONDITIONS:
        changes["threshold"] = getattr(THRESHOLDS.scaled(alternative.scale), SCALED_CONDITIONS[part.metric])
    if "success_condition" in {f.name for f in fields(part)}:
        changes["success_condition"] = _rewrite(part.success_condition, alternative)
    return replace(part, **changes)


def alternative_claim(claim: Claim, alternative: Alternative) -> Claim:
    return replace(claim, spec=_rewrite(claim.spec, alternative))


def alternative_runs(
    alternative: Alternative,
    runs: pd.DataFrame,
    finals: Mapping[str, measures.FinalArtifacts],
    measured: pd.DataFrame,
) -> tuple[pd.DataFrame, str]:
    """The runs as ``alternative`` measures them (from ``runs``, :func:`aggregate.load_runs`'s table, their
    ``finals`` and ``measured``, the pre-registered measures), and why it cannot, where a substitute measure
    is logged by no run ("" otherwise)."""
    if alternative.scale != 1.0:
        measured = measures.add_run_measures(
            runs, thresholds=THRESHOLDS.scaled(alternative.scale), finals=finals
        )
    missing = [substitute for _, substitute in alternative.metrics if substitute not in measured.columns]
    if missing:
        return measured, f"no run logs {', '.join(missing)}"
    if alternative.metrics:
        measured = measured.copy()
        arms = measured["algo"].isin(alternative.algos) if alternative.algos else slice(None)
        for metric, substitute in alternative.metrics:
            measured.loc[arms, metric] = measured.loc[arms, substitute]
    return measured, ""


def check_robustness(
    results: list[ClaimResult],
    runs: pd.DataFrame,
    finals: Mapping[str, measures.FinalArtifacts],
    measured: pd.DataFrame,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> None:
    """Fill each result's ``alternatives`` (one :class:`Outcome` per alternative that applies to its claim)
    and ``diagnostics``."""
    claims = list(dict.fromkeys(r.claim for r in results if r.verdict != scorecard.NOT_RUN))
    for alternative in ALTERNATIVES:
        chosen = [c for c in claims if applies(alternative, c)]
        if not chosen:
            continue
        table, unavailable = alternative_runs(alternative, runs, finals, measured)
        by_key: dict[tuple, ClaimResult] = {}
        if not unavailable:
            for claim in chosen:
                changed = scorecard.evaluate_claim(alternative_claim(claim, alternative), table, reps, seed)
                by_key.update({r.key: r for r in changed})
        for result in results:
            if result.claim in chosen and result.verdict != scorecard.NOT_RUN:
                result.alternatives.append(_outcome(alternative, by_key.get(result.key), unavailable))
    for result in results:
        result.diagnostics += _runner_up_prominences(result, measured)


def _outcome(alternative: Alternative, changed: ClaimResult | None, unavailable: str) -> Outcome:
    if unavailable:
        return Outcome(alternative.name, None, unavailable)
    if changed is None or changed.verdict == scorecard.NOT_RUN:
        substitutes = ", ".join(s for _, s in alternative.metrics) or "what it reads"
        return Outcome(alternative.name, None, f"the row's runs lack {substitutes}")
    return Outcome(alternative.name, changed.verdict, changed.brief)


def _runner_up_prominences(result: ClaimResult, measured: pd.DataFrame) -> list[str]:
    """Beside a Q-mode count: each seed's runner-up prominence at the claim's state."""
    if result.verdict == scorecard.NOT_RUN:
        return []
    lines = []
    for m in result.claim.spec.measured():
        runner_up = Q_MODE_RUNNER_UP.get(m.metric)
        if runner_up is None or runner_up not in measured.columns:
            continue
        here = measured[
            (measured["experiment"] == result.claim.experiment)
            & (measured["env"] == result.env)
            & (measured["profile"] == result.profile)
            & (measured["algo"] == result.subject)
            & (measured["preset"] == result.preset)
        ]
        values = aggregate.run_values(here, runner_up, "final").dropna(subset=["value"])
        if len(values) == 0:
            continue
        seeds = ", ".join(f"{s}: {v:.3f}" for s, v in zip(values["seed"], values["value"], strict=True))
        threshold = THRESHOLDS.q_mode_prominence
        scaled = ", ".join(f"{factor * threshold:.3f}" for factor in THRESHOLD_SCALES)
        lines.append(
            f"Runner-up prominence per seed ({runner_up}; a mode needs >= {threshold:.3f}, at the scaled "
            f"thresholds {scaled}): {seeds}; largest {values['value'].max():.3f}."
        )
    return lines
