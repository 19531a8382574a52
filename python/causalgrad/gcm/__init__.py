"""DoWhy's ``gcm`` calls on causalgrad: switch with one import.

>>> from causalgrad import gcm          # instead of: from dowhy import gcm
>>> import networkx as nx, numpy as np, pandas as pd
>>> np.random.seed(0)
>>> X = np.random.normal(size=1000)
>>> Y = 2 * X + np.random.normal(size=1000)
>>> data = pd.DataFrame(dict(X=X, Y=Y))
>>> causal_model = gcm.StructuralCausalModel(nx.DiGraph([("X", "Y")]))
>>> summary = gcm.auto.assign_causal_mechanisms(causal_model, data)
>>> gcm.fit(causal_model, data)
>>> ace = gcm.average_causal_effect(causal_model, "Y", {"X": lambda x: 1}, {"X": lambda x: 0},
...                                 num_samples_to_draw=10000)
>>> round(ace, 1)
2.0

Interventions are constants or functions of the variable's values,
called once per variable on the whole numpy column (DoWhy calls them
once per row); results are DataFrames with the data's column names and
dtypes. Randomness comes from numpy's global generator
(``np.random.seed``), as in DoWhy.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import numpy as np
import pandas as pd

from .._causalgrad import ModelError
from .._model import FitSummary
from . import auto, ml
from ._mechanisms import AdditiveNoiseModel, ClassifierFCM, EmpiricalDistribution
from ._scm import (
    InvertibleStructuralCausalModel,
    ProbabilisticCausalModel,
    StructuralCausalModel,
    random_seed,
)

Interventions = Mapping[Any, Union[float, str, Callable[[np.ndarray], Any]]]

__all__ = [
    "AdditiveNoiseModel",
    "ClassifierFCM",
    "EmpiricalDistribution",
    "InvertibleStructuralCausalModel",
    "ProbabilisticCausalModel",
    "StructuralCausalModel",
    "auto",
    "average_causal_effect",
    "confidence_intervals",
    "counterfactual_samples",
    "draw_samples",
    "ensemble_confidence_intervals",
    "fit",
    "fit_and_compute",
    "interventional_samples",
    "ml",
]


def fit(
    causal_model: StructuralCausalModel,
    data: pd.DataFrame,
    return_evaluation_summary: bool = False,
    *,
    members: int = 0,
    **settings: Any,
) -> Optional[FitSummary]:
    """Fits every mechanism of ``causal_model`` to ``data`` (variables with
    no assigned mechanism take causalgrad's defaults). ``members``
    ensemble members give :func:`ensemble_confidence_intervals` its
    intervals; ``settings`` are :meth:`causalgrad.Model.fit`'s (``steps``,
    ``learning_rate``, ``seed``, ...). The GIL is released while fitting.
    Returns the fit's summary when ``return_evaluation_summary``.

    After :func:`gcm.auto.assign_causal_mechanisms` on the same rows (the
    same values, the same settings, no mechanism changed since), the model
    the assignment selected and fitted to all of them is kept instead of
    fitted again from fresh weights; ``members`` are then fitted around
    it."""
    summary = causal_model._fit(data, members, **settings)
    return summary if return_evaluation_summary else None


def draw_samples(causal_model: StructuralCausalModel, num_samples: int) -> pd.DataFrame:
    """``num_samples`` samples of the fitted model."""
    return causal_model.model.sample(int(num_samples), seed=random_seed())


def interventional_samples(
    causal_model: StructuralCausalModel,
    interventions: Interventions,
    observed_data: Optional[pd.DataFrame] = None,
    num_samples_to_draw: Optional[int] = None,
) -> pd.DataFrame:
    """Samples under ``interventions`` (``{"X": lambda x: 2}`` is
    *do(X := 2)*, ``{"X": lambda x: x + 0.5}`` a shift): fresh samples
    (``num_samples_to_draw``), or the rows of ``observed_data`` with the
    variables the interventions reach redrawn."""
    model = causal_model.model
    if observed_data is None and num_samples_to_draw is None:
        raise ModelError("give either observed_data or num_samples_to_draw")
    if observed_data is not None and num_samples_to_draw is not None:
        raise ModelError("give either observed_data or num_samples_to_draw, not both")
    if observed_data is not None:
        return model.intervene_observed(observed_data, interventions, seed=random_seed())
    return model.sample(int(num_samples_to_draw), interventions, seed=random_seed())


def counterfactual_samples(
    causal_model: StructuralCausalModel,
    interventions: Interventions,
    observed_data: Optional[pd.DataFrame] = None,
    noise_data: Optional[pd.DataFrame] = None,
) -> pd.DataFrame:
    """What the rows of ``observed_data`` would have been under
    ``interventions``: each row's noise is inferred from its values, then
    the intervened variables and their descendants are recomputed."""
    if noise_data is not None:
        raise ModelError(
            "causalgrad infers the noise from observed_data; noise_data is not supported, give observed_data"
        )
    if observed_data is None:
        raise ModelError("counterfactual_samples needs observed_data")
    return causal_model.model.counterfactual(observed_data, interventions)


def average_causal_effect(
    causal_model: StructuralCausalModel,
    target_node: Any,
    interventions_alternative: Interventions,
    interventions_reference: Interventions,
    observed_data: Optional[pd.DataFrame] = None,
    num_samples_to_draw: Optional[int] = None,
) -> float:
    """``E[target | alternative] − E[target | reference]``: from
    ``num_samples_to_draw`` paired samples (the same noise in both arms),
    or over the rows of ``observed_data``."""
    model = causal_model.model
    if observed_data is None and num_samples_to_draw is None:
        raise ModelError("give either observed_data or num_samples_to_draw")
    seed = random_seed()
    if observed_data is not None:
        alt = model.intervene_observed(observed_data, interventions_alternative, seed=seed)
        ref = model.intervene_observed(observed_data, interventions_reference, seed=seed)
        return float(np.mean(alt[str(target_node)].to_numpy(dtype=float)) - np.mean(ref[str(target_node)].to_numpy(dtype=float)))
    effect = model.effect(
        str(target_node),
        interventions_alternative,
        interventions_reference,
        n=int(num_samples_to_draw),
        seed=seed,
    )
    return effect.estimate


def confidence_intervals(
    estimation_func: Callable[[], Any],
    confidence_level: float = 0.95,
    num_bootstrap_resamples: int = 20,
    bootstrap_results_summary_func: Callable[[np.ndarray], np.ndarray] = lambda x: np.median(x, axis=0),
    n_jobs: int = 1,
) -> Tuple[Any, Any]:
    """DoWhy's ``confidence_intervals``: calls ``estimation_func``
    ``num_bootstrap_resamples`` times and returns the results' summary
    (the median) and percentile intervals at ``confidence_level``, per key
    when it returns a dict. Use it with :func:`fit_and_compute` to refit
    on subsamples; :func:`ensemble_confidence_intervals` gives intervals
    from one fit's ensemble members instead."""
    if num_bootstrap_resamples < 1:
        raise ValueError(f"num_bootstrap_resamples must be at least 1, got {num_bootstrap_resamples}")
    results = [estimation_func() for _ in range(num_bootstrap_resamples)]
    lower, upper = 50 * (1 - confidence_level), 50 * (1 + confidence_level)

    def bounds(values: np.ndarray) -> np.ndarray:
        return np.array([np.percentile(values, lower), np.percentile(values, upper)])

    if isinstance(results[0], dict):
        keys = list(results[0])
        stacked = np.column_stack([[r[k] for r in results] for k in keys])
        summary = bootstrap_results_summary_func(stacked)
        return (
            {k: summary[i] for i, k in enumerate(keys)},
            {k: bounds(stacked[:, i]) for i, k in enumerate(keys)},
        )
    stacked = np.array(results, dtype=float).reshape(len(results), -1)
    return (
        bootstrap_results_summary_func(stacked),
        np.array([bounds(stacked[:, i]) for i in range(stacked.shape[1])]),
    )


def fit_and_compute(
    f: Callable[..., Any],
    causal_model: StructuralCausalModel,
    bootstrap_training_data: pd.DataFrame,
    bootstrap_data_subset_size_fraction: float = 0.75,
    auto_assign_quality: Optional[auto.AssignmentQuality] = None,
    *args: Any,
    **kwargs: Any,
) -> Callable[[], Any]:
    """DoWhy's ``fit_and_compute``: a function that refits a copy of
    ``causal_model`` on a random subset of ``bootstrap_training_data``
    (that fraction of its rows, without replacement) and returns
    ``f(copy, *args, **kwargs)``; for :func:`confidence_intervals`."""

    def snapshot() -> Any:
        copy = causal_model.clone()
        rows = np.random.choice(
            bootstrap_training_data.shape[0],
            int(bootstrap_training_data.shape[0] * bootstrap_data_subset_size_fraction),
            replace=False,
        )
        subset = bootstrap_training_data.iloc[rows]
        if auto_assign_quality is not None:
            auto.assign_causal_mechanisms(copy, subset, auto_assign_quality, override_models=True)
        fit(copy, subset, seed=random_seed())
        return f(copy, *args, **kwargs)

    return snapshot


def ensemble_confidence_intervals(
    causal_model: StructuralCausalModel,
    target_node: Any,
    interventions_alternative: Interventions,
    interventions_reference: Interventions,
    num_samples_to_draw: int = 10_000,
    confidence_level: float = 0.95,
) -> Tuple[Dict[Any, float], Dict[Any, np.ndarray]]:
    """The average causal effect on ``target_node`` with its interval from
    one fit's ensemble members (``gcm.fit(model, data, members=8)``), in
    :func:`confidence_intervals`'s format: ``({target: estimate},
    {target: array([low, high])})``. The interval is the estimate ±
    t · sqrt(members' variance + Monte-Carlo variance); without members it
    covers the Monte-Carlo error only."""
    effect = causal_model.model.effect(
        str(target_node),
        interventions_alternative,
        interventions_reference,
        n=int(num_samples_to_draw),
        seed=random_seed(),
        level=confidence_level,
    )
    return {target_node: effect.estimate}, {target_node: np.array([effect.low, effect.high])}
