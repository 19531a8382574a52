"""Mechanism selection (``Model.select``, ``gcm.auto.assign_causal_mechanisms``)
on data from a known model: a linear node and a clearly nonlinear one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalgrad
from causalgrad import gcm


@pytest.fixture(scope="module")
def linear_and_sine() -> pd.DataFrame:
    """x -> y linear (y = 1.5 x + N(0, 0.5)), y -> z nonlinear
    (z = 2 sin(2 y) + N(0, 0.3))."""
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.normal(size=n)
    y = 1.5 * x + rng.normal(scale=0.5, size=n)
    z = 2 * np.sin(2 * y) + rng.normal(scale=0.3, size=n)
    return pd.DataFrame({"x": x, "y": y, "z": z})


def test_selection_picks_linear_for_the_linear_node_and_a_network_for_the_sine(linear_and_sine) -> None:
    model = causalgrad.Model([("x", "y"), ("y", "z")])
    selection = model.select(linear_and_sine, noises=(), seed=1)
    assert selection.candidates == ["linear", "additive(8)", "mlp(16)"]
    assert selection.choices["y"].mechanism == "linear"
    z = selection.choices["z"]
    assert z.mechanism in ("additive(8)", "mlp(16)")
    # The sine is far from a line: the linear candidate scores much worse.
    assert z.scores["linear"] < z.score - 0.5
    # The fitted model is the selected one, and a later fit keeps the choices.
    assert model.mechanism("y") == "linear"
    assert model.is_fitted
    model.fit(linear_and_sine, steps=50, seed=2)
    assert model.mechanism("y") == "linear"
    assert model.mechanism("z") != "linear"
    text = str(selection)
    assert "y: linear" in text and "z:" in text


def test_declared_mechanisms_are_kept(linear_and_sine) -> None:
    model = causalgrad.Model([("x", "y"), ("y", "z")], mechanisms={"z": "linear"})
    selection = model.select(linear_and_sine, noises=(), families=("linear", "mlp(16)"), steps=400)
    assert selection.choices["z"].mechanism == "linear"
    assert model.mechanism("z") == "linear"


def test_gcm_auto_assignment_selects_and_summarises(linear_and_sine) -> None:
    causal_model = gcm.StructuralCausalModel([("x", "y"), ("y", "z")])
    summary = gcm.auto.assign_causal_mechanisms(causal_model, linear_and_sine, seed=1)
    y = causal_model.causal_mechanism("y")
    z = causal_model.causal_mechanism("z")
    assert isinstance(y, gcm.AdditiveNoiseModel) and y.mechanism == "linear"
    assert isinstance(z, gcm.AdditiveNoiseModel) and z.mechanism in ("additive(8)", "mlp(16)")
    assert isinstance(causal_model.causal_mechanism("x"), gcm.EmpiricalDistribution)
    text = str(summary)
    for node in ("x", "y", "z"):
        assert f"Node: {node}" in text
    assert f"Held-out score: {summary.nodes['z'].score:.4f}" in text
    assert summary.nodes["z"].scores["linear"] < summary.nodes["z"].score
    gcm.fit(causal_model, linear_and_sine, steps=300)
    np.random.seed(0)
    # E[z | do(y = 0.5)] - E[z | do(y = 0)] = 2 sin(1) ≈ 1.68.
    ace = gcm.average_causal_effect(causal_model, "z", {"y": 0.5}, {"y": 0.0}, num_samples_to_draw=4000)
    assert ace == pytest.approx(2 * np.sin(1.0), abs=0.15)


def test_assignment_keeps_existing_mechanisms_unless_overridden(linear_and_sine) -> None:
    causal_model = gcm.StructuralCausalModel([("x", "y"), ("y", "z")])
    causal_model.set_causal_mechanism("z", gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor()))
    summary = gcm.auto.assign_causal_mechanisms(causal_model, linear_and_sine, steps=300)
    assert causal_model.causal_mechanism("z").mechanism == "linear"
    assert summary.nodes["z"].kept


def test_bad_selection_settings_raise() -> None:
    data = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 0.0, 2.0, 1.0]})
    model = causalgrad.Model([("x", "y")])
    with pytest.raises(causalgrad.ModelError, match="cubic"):
        model.select(data, families=("cubic",))
    with pytest.raises(causalgrad.ModelError, match="noise"):
        model.select(data, noises=("uniform",))
    with pytest.raises(causalgrad.ModelError, match="validation"):
        model.select(data, validation=0.0)
    with pytest.raises(causalgrad.ModelError, match="quality"):
        gcm.auto.assign_causal_mechanisms(gcm.StructuralCausalModel([("x", "y")]), data, quality="good")


def test_fit_after_assignment_keeps_the_assigned_fit_on_the_same_rows(linear_and_sine) -> None:
    causal_model = gcm.StructuralCausalModel([("x", "y"), ("y", "z")])
    summary = gcm.auto.assign_causal_mechanisms(causal_model, linear_and_sine, steps=300, seed=1)
    assigned = summary.selection.fit
    # Same rows, same settings, mechanisms unchanged: the assignment's fit is kept.
    kept = gcm.fit(causal_model, linear_and_sine, return_evaluation_summary=True, steps=300, seed=1)
    assert kept == assigned
    before = causal_model.model.params("y")
    # With members, they are fitted around it, and the model's own parameters stay.
    with_members = gcm.fit(causal_model, linear_and_sine, return_evaluation_summary=True, members=3, steps=300, seed=1)
    assert with_members.members == 3 and with_members.steps == 0
    assert causal_model.model.members == 3
    assert np.array_equal(causal_model.model.params("y"), before)
    # Other settings, other rows or a changed mechanism: fitted again.
    refit = gcm.fit(causal_model, linear_and_sine, return_evaluation_summary=True, steps=200, seed=1)
    assert refit.steps > 0 and refit != assigned
    changed = linear_and_sine.copy()
    changed.loc[0, "z"] += 1.0
    assert gcm.fit(causal_model, changed, return_evaluation_summary=True, steps=300, seed=1).steps > 0
    causal_model.set_causal_mechanism("z", gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor()))
    assert gcm.fit(causal_model, linear_and_sine, return_evaluation_summary=True, steps=300, seed=1).steps > 0


def test_fit_members_needs_a_fitted_model_and_a_positive_count(linear_and_sine) -> None:
    model = causalgrad.Model([("x", "y"), ("y", "z")])
    with pytest.raises(causalgrad.ModelError, match="not fitted"):
        model.fit_members(linear_and_sine, 2)
    model.fit(linear_and_sine, steps=100)
    with pytest.raises(causalgrad.ModelError, match="at least 1"):
        model.fit_members(linear_and_sine, 0)
    summary = model.fit_members(linear_and_sine, 2, steps=100)
    assert summary.members == 2 and model.members == 2
    assert model.effect("z", {"y": 0.5}, {"y": 0.0}).method == "ensemble"
