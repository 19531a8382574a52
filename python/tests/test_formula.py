"""Formula mechanisms: the fitted parameters recover a known model's
coefficients; bad formulas raise naming the variable and column."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import causalgrad


@pytest.fixture(scope="module")
def bump() -> pd.DataFrame:
    """y = 2.5 exp(-0.7 x²) + 0.5 x + N(0, 0.2)."""
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.normal(scale=1.5, size=n)
    y = 2.5 * np.exp(-0.7 * x**2) + 0.5 * x + rng.normal(scale=0.2, size=n)
    return pd.DataFrame({"x": x, "y": y})


def test_fitted_parameters_recover_the_coefficients(bump: pd.DataFrame, tmp_path: pathlib.Path) -> None:
    model = causalgrad.Model([("x", "y")])
    model.set_mechanism("y", formula="f * exp(-g * x^2) + h * x", init={"f": 1.0, "g": 1.0, "h": 0.0})
    model.fit(bump, steps=1500, learning_rate=0.05, seed=0)
    params = model.params("y")
    assert params == pytest.approx({"f": 2.5, "g": 0.7, "h": 0.5}, abs=0.05)
    path = tmp_path / "formula.cg"
    model.save(path)
    assert causalgrad.Model.load(path).params("y") == pytest.approx(params, abs=1e-6)


def test_the_constructor_takes_a_formula_and_a_dict(bump: pd.DataFrame) -> None:
    linear = {"formula": "a * x + b", "init": {"a": 1.0, "b": 0.0}}
    for mechanism in (causalgrad.Formula("a * x + b", params=("a", "b")), linear):
        model = causalgrad.Model([("x", "y")], mechanisms={"y": mechanism})
        model.fit(bump.assign(y=3.0 * bump["x"] - 1.0 + 0.1 * np.sin(np.arange(len(bump)))),
                  steps=800, learning_rate=0.05)
        assert model.params("y") == pytest.approx({"a": 3.0, "b": -1.0}, abs=0.02)
    assert isinstance(model.params("x"), np.ndarray)


def test_bad_formulas_raise(bump: pd.DataFrame) -> None:
    model = causalgrad.Model([("x", "y")])
    model.set_mechanism("y", formula="a * z + b", init={"a": 1.0, "b": 0.0})
    with pytest.raises(causalgrad.ModelError, match=r"`y`'s formula `a \* z \+ b`, column 5"):
        model.fit(bump, steps=5)
    with pytest.raises(causalgrad.ModelError, match="not both"):
        model.set_mechanism("y", "linear", formula="a * x")
    with pytest.raises(causalgrad.ModelError, match="params does not declare"):
        model.set_mechanism("y", formula="a * x", params=["a"], init={"b": 1.0})
    with pytest.raises(causalgrad.ModelError, match="finite"):
        model.set_mechanism("y", formula="a * x", init={"a": float("nan")})
    with pytest.raises(causalgrad.ModelError, match="formula"):
        causalgrad.Model([("x", "y")], mechanisms={"y": {"init": {"a": 1.0}}})
    with pytest.raises(causalgrad.GraphError):
        model.set_mechanism("w", formula="a * x", init={"a": 1.0})
