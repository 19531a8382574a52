"""causalgrad.Model: fits, queries, dtypes, interventions, files."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import causalgrad
from conftest import MIXED_EDGES


def linear_chain() -> causalgrad.Model:
    return causalgrad.Model([("X", "Y"), ("Y", "Z")], mechanisms={"Y": "linear", "Z": "linear"})


def test_a_linear_chain_recovers_its_effect_with_an_interval(chain_data: pd.DataFrame) -> None:
    model = linear_chain()
    summary = model.fit(chain_data, members=6)
    assert summary.members == 6 and summary.steps > 0
    effect = model.effect("Z", {"X": 1.0}, {"X": 0.0}, n=20_000)
    assert effect.method == "ensemble" and len(effect.members) == 6
    assert effect.low < 6.0 < effect.high, effect
    assert abs(effect.estimate - 6.0) < 0.15
    assert effect.high - effect.low < 1.0


def test_functions_are_called_once_per_variable_on_whole_columns(chain_data: pd.DataFrame) -> None:
    model = linear_chain()
    model.fit(chain_data)
    calls = []

    def shift(x: np.ndarray) -> np.ndarray:
        calls.append(x.shape)
        return x + 0.5

    base = model.sample(500, seed=3)
    shifted = model.sample(500, {"X": shift}, seed=3)
    assert calls == [(500,)]
    np.testing.assert_allclose(shifted["X"] - base["X"], 0.5, atol=1e-12)
    # The same noise in both: Z moves by 0.5 · 2 · 3.
    np.testing.assert_allclose(shifted["Z"] - base["Z"], 3.0, atol=0.2)
    # A DoWhy-style constant function equals the constant.
    const = model.sample(500, {"X": lambda x: 1.0}, seed=3)
    done = model.sample(500, {"X": 1.0}, seed=3)
    assert (const["X"] == 1.0).all()
    np.testing.assert_allclose(const["Z"], done["Z"], atol=1e-4)
    # A function of one value at a time is applied row by row.
    import math

    rowwise = model.sample(50, {"X": lambda x: math.tanh(x)}, seed=3)
    np.testing.assert_allclose(rowwise["X"], np.tanh(model.sample(50, seed=3)["X"]), atol=1e-12)


def test_observed_rows_keep_what_the_intervention_does_not_reach(chain_data: pd.DataFrame) -> None:
    model = linear_chain()
    model.fit(chain_data)
    observed = chain_data.head(200)
    out = model.intervene_observed(observed, {"Y": lambda y: y + 1.0})
    np.testing.assert_array_equal(out["X"], observed["X"])
    assert list(out.index) == list(observed.index)
    cf = model.counterfactual(observed, {"Y": lambda y: y + 1.0})
    np.testing.assert_array_equal(cf["X"], observed["X"])
    np.testing.assert_allclose(cf["Y"], observed["Y"] + 1.0, atol=1e-9)
    # Counterfactual: each row keeps its own noise, Z moves by 3.
    np.testing.assert_allclose(cf["Z"] - observed["Z"], 3.0, atol=0.1)


def test_results_keep_the_input_s_names_and_dtypes(mixed_data: pd.DataFrame) -> None:
    model = causalgrad.Model(MIXED_EDGES)
    model.fit(mixed_data, steps=400)
    assert model.kind("t") == "binary" and model.kind("colour") == "categorical"
    assert model.kind("region") == "categorical" and model.kind("flag") == "binary"
    samples = model.sample(300, seed=1)
    assert list(samples.columns) == list(mixed_data.columns)
    assert samples["t"].dtype == np.int64 and set(samples["t"]) <= {0, 1}
    assert isinstance(samples["colour"].dtype, pd.CategoricalDtype)
    assert list(samples["colour"].cat.categories) == ["blue", "green", "red"]
    assert samples["region"].dtype == mixed_data["region"].dtype
    assert set(samples["region"]) <= {"north", "south"}
    assert samples["flag"].dtype == bool
    assert samples["y"].dtype == np.float64
    # Interventions by label and on a binary variable.
    treated = model.sample(4000, {"t": 1, "region": "north"}, seed=2)
    assert (treated["t"] == 1).all() and (treated["region"] == "north").all()
    # A function on a categorical variable sees and returns labels.
    recoloured = model.sample(100, {"colour": lambda c: np.where(c == "red", "blue", c)}, seed=2)
    assert "red" not in set(recoloured["colour"])
    effect = model.effect("y", {"t": 1}, {"t": 0}, n=20_000)
    assert abs(effect.estimate - 1.5) < 0.25, effect
    cf = model.counterfactual(mixed_data.head(50), {"t": 1})
    assert isinstance(cf["colour"].dtype, pd.CategoricalDtype)
    assert (cf["t"] == 1).all()


def test_models_pickle_and_save_as_model_files(chain_data: pd.DataFrame, tmp_path) -> None:
    model = linear_chain()
    model.fit(chain_data, members=2)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.sample(100, seed=5), model.sample(100, seed=5))
    assert again.members == 2
    path = tmp_path / "chain.cg"
    model.save(path)
    loaded = causalgrad.Model.load(path)
    pd.testing.assert_frame_equal(loaded.sample(100, seed=5), model.sample(100, seed=5))
    assert loaded.mechanism("Y") == model.mechanism("Y")
    assert causalgrad.Model.from_bytes(model.to_bytes()).variables == ["X", "Y", "Z"]


def test_an_unfitted_model_pickles_with_its_declarations(chain_data: pd.DataFrame) -> None:
    def declared() -> causalgrad.Model:
        model = causalgrad.Model(
            [("X", "Y"), ("Y", "Z")], mechanisms={"Y": "additive(4)"}, noise={"Z": "laplace"}, kinds={"X": "continuous"}
        )
        model.set_mechanism("Z", formula="a * Y + b", init={"a": 0.5, "b": 0.0})
        return model

    again = pickle.loads(pickle.dumps(declared()))
    assert not again.is_fitted
    model = declared()
    model.fit(chain_data, steps=80, seed=1)
    again.fit(chain_data, steps=80, seed=1)
    for variable in ("X", "Y", "Z"):
        assert again.mechanism(variable) == model.mechanism(variable)
        assert again.noise(variable) == model.noise(variable)
    assert "laplace" in again.noise("Z")
    pd.testing.assert_frame_equal(again.sample(50, seed=2), model.sample(50, seed=2))


def test_a_loaded_model_refits_with_its_own_structure(chain_data: pd.DataFrame, tmp_path) -> None:
    model = causalgrad.Model([("X", "Y"), ("Y", "Z")], mechanisms={"Y": "linear", "Z": "additive(4)"},
                             noise={"Y": "student_t"})
    model.fit(chain_data, steps=60, seed=0)
    model.save(tmp_path / "m.cg")
    loaded = causalgrad.Model.load(tmp_path / "m.cg")
    loaded.fit(chain_data, steps=60, seed=0)
    for variable in ("X", "Y", "Z"):
        assert loaded.mechanism(variable) == model.mechanism(variable), variable
        assert loaded.noise(variable).split()[0] == model.noise(variable).split()[0], variable
    # Unpickled, the loaded model's structure stays too.
    assert pickle.loads(pickle.dumps(loaded)).mechanism("Z") == model.mechanism("Z")


def test_graphs_come_as_networkx_dot_gml_and_edges() -> None:
    nx = pytest.importorskip("networkx")
    from_nx = causalgrad.Model(nx.DiGraph([("a", "b"), ("b", "c")]))
    from_dot = causalgrad.Model("digraph {a->b; b->c;}")
    from_dagitty = causalgrad.Model("dag { a -> b -> c }")
    gml = "\n".join(nx.generate_gml(nx.DiGraph([("a", "b"), ("b", "c")])))
    from_gml = causalgrad.Model(gml)
    for model in (from_nx, from_dot, from_dagitty, from_gml):
        assert model.variables == ["a", "b", "c"]
        assert model.parents("c") == ["b"]
