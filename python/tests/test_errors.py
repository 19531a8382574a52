"""Errors reach Python as causalgrad exceptions naming what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalgrad
from causalgrad import CausalGradError, DataError, FileError, FitError, GraphError, ModelError


def test_the_exceptions_form_one_hierarchy() -> None:
    for error in (DataError, FileError, FitError, GraphError, ModelError):
        assert issubclass(error, CausalGradError)
    assert issubclass(CausalGradError, Exception)


def test_graph_errors() -> None:
    with pytest.raises(GraphError, match="cycle"):
        causalgrad.Model([("a", "b"), ("b", "a")])
    with pytest.raises(GraphError, match="1:"):
        causalgrad.Model("digraph { a -> }")
    with pytest.raises(GraphError, match="undirected"):
        nx = pytest.importorskip("networkx")
        causalgrad.Model(nx.Graph([("a", "b")]))


@pytest.fixture
def model() -> causalgrad.Model:
    return causalgrad.Model([("x", "y")], mechanisms={"y": "linear"})


def test_bad_data_frames(model: causalgrad.Model) -> None:
    good = pd.DataFrame({"x": np.arange(50.0), "y": np.arange(50.0) * 2})
    with pytest.raises(DataError, match=r"no column for y.*columns are x, z"):
        model.fit(good.rename(columns={"y": "z"}))
    with_nan = good.copy()
    with_nan.loc[7, "y"] = np.nan
    with pytest.raises(DataError, match=r"column `y`, row 8 .*missing value"):
        model.fit(with_nan)
    objects = good.copy()
    objects["x"] = pd.Series([1.0, 2.0, 3.0] + [{"a": i} for i in range(47)], dtype=object)
    with pytest.raises(DataError, match=r"column `x` has dtype object holding float values \(row 1: 1.0\)"):
        model.fit(objects)
    with pytest.raises(DataError, match="DataFrame"):
        model.fit({"x": [1.0], "y": [2.0]})  # type: ignore[arg-type]
    infinite = good.copy()
    infinite.loc[0, "x"] = np.inf
    with pytest.raises(DataError, match="not finite"):
        model.fit(infinite)


def test_query_and_fit_errors(model: causalgrad.Model) -> None:
    with pytest.raises(ModelError, match="not fitted"):
        model.sample(10)
    data = pd.DataFrame({"x": np.linspace(-1, 1, 200), "y": np.linspace(-2, 2, 200)})
    with pytest.raises(FitError):
        model.fit(data, validation=1.5)
    model.fit(data, steps=50)
    with pytest.raises(GraphError, match="nope"):
        model.sample(10, {"nope": 1.0})
    with pytest.raises(ModelError, match="not finite"):
        model.sample(10, {"x": float("nan")})
    with pytest.raises(ModelError, match="3 values for 10 rows|shape"):
        model.sample(10, {"x": lambda x: x[:3]})
    with pytest.raises(ZeroDivisionError):
        model.sample(10, {"x": lambda x: 1 / 0})
    with pytest.raises(ModelError, match="mechanism `cubic`"):
        causalgrad.Model([("x", "y")], mechanisms={"y": "cubic"})
    with pytest.raises(ModelError, match="level"):
        model.effect("y", {"x": 1.0}, {"x": 0.0}, level=95)


def test_binary_and_categorical_values_are_checked() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"t": rng.integers(0, 2, 300), "c": rng.choice(["a", "b"], 300)})
    model = causalgrad.Model([("t", "c")])
    model.fit(data, steps=50)
    with pytest.raises(DataError, match="`t`"):
        model.sample(10, {"t": 2})
    with pytest.raises(DataError, match="no level `z`"):
        model.sample(10, {"c": "z"})
    with pytest.raises(DataError, match="not one of its levels"):
        model.sample(10, {"c": lambda c: np.full(len(c), "z", dtype=object)})


def test_file_errors(tmp_path) -> None:
    with pytest.raises(FileError, match="missing.cg"):
        causalgrad.Model.load(tmp_path / "missing.cg")
    garbage = tmp_path / "garbage.cg"
    garbage.write_bytes(b"not a model file at all")
    with pytest.raises(FileError, match="garbage.cg"):
        causalgrad.Model.load(garbage)
    with pytest.raises(FileError):
        causalgrad.Model.from_bytes(b"\x00" * 10)


def unaligned(values: np.ndarray) -> np.ndarray:
    """``values`` in a float64 array one byte off alignment, as columns
    unpickled from out-of-band buffers (Dask, multiprocessing) can be."""
    buffer = bytearray(values.size * 8 + 1)
    array = np.frombuffer(buffer, dtype=np.float64, offset=1, count=values.size)
    array.setflags(write=True)
    array[:] = values
    assert not array.flags.aligned
    return array


def test_unaligned_columns_are_read_not_a_panic() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    y = 2 * x + rng.normal(scale=0.1, size=500)
    data = pd.DataFrame({"x": unaligned(x), "y": unaligned(y)}, copy=False)
    model = causalgrad.Model([("x", "y")], mechanisms={"y": "linear"})
    model.fit(data, steps=300, learning_rate=0.05)
    assert model.effect("y", {"x": 1.0}, {"x": 0.0}, n=2000).estimate == pytest.approx(2.0, abs=0.05)
    shifted = model.sample(10, {"x": lambda v: unaligned(v + 1.0)}, seed=1)
    assert len(shifted) == 10
    # The compiled module itself refuses an unaligned array with an error.
    raw = causalgrad.Model([("x", "y")])._raw
    with pytest.raises(ModelError, match="aligned"):
        raw.fit([("x", unaligned(x), None), ("y", unaligned(y), None)], 5, 0.01, 0, 0.1, 10, None, 0)
