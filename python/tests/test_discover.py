"""``causalgrad.discover`` / ``Model.discover``: a planted linear graph is
recovered, with its weights, prior knowledge and bootstrap stability."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import causalgrad

#: a -> b -> c, a -> d, with unit noise: identifiable by least squares on
#: the raw units (equal noise variances).
PLANTED = {("a", "b"): 1.5, ("b", "c"): -1.2, ("a", "d"): 0.8}


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 2000
    a = rng.normal(size=n)
    b = 1.5 * a + rng.normal(size=n)
    c = -1.2 * b + rng.normal(size=n)
    d = 0.8 * a + rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": d})


def test_the_planted_graph_is_recovered_with_its_weights(planted: pd.DataFrame) -> None:
    model = causalgrad.Model.discover(planted, standardize=False)
    assert set(model.edges) == set(PLANTED)
    found = model.discovery
    assert found is not None and found.variables == ["a", "b", "c", "d"]
    for (source, target), weight in PLANTED.items():
        assert found.edge(source, target).weight == pytest.approx(weight, abs=0.1)
        assert found.weights.loc[source, target] == pytest.approx(weight, abs=0.1)
    assert found.stability is None
    assert "a" in found.dot and "weight=" in found.dot
    # The learned model fits like any other, and pickles with its discovery.
    model.set_mechanism("b", "linear")
    model.fit(planted, steps=200)
    assert model.effect("c", {"a": 1.0}, {"a": 0.0}, n=4000).estimate == pytest.approx(-1.8, abs=0.2)
    assert pickle.loads(pickle.dumps(model)).discovery.edges == found.edges


def test_knowledge_and_bootstrap(planted: pd.DataFrame) -> None:
    model = causalgrad.discover(planted, standardize=False, forbid=["a -> d"], require=[("c", "d")], bootstrap=4)
    found = model.discovery
    assert ("a", "d") not in model.edges
    assert found.edge("c", "d").required
    for edge in (("a", "b"), ("b", "c")):
        assert found.edge(*edge).stability == pytest.approx(1.0)
        assert found.stability.loc[edge] == pytest.approx(1.0)


def test_mlp_discovery_finds_a_nonlinear_edge() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=300)
    b = 2 * np.tanh(2 * a) + 0.3 * rng.normal(size=300)
    c = 0.3 * rng.normal(size=300)
    data = pd.DataFrame({"a": a, "b": b, "c": c})
    model = causalgrad.discover(data, method="mlp", hidden=4, seed=1, standardize=False)
    assert model.edges == [("a", "b")]
    assert model.discovery.edge("a", "b").weight > 1.0


def test_bad_discovery_input_raises(planted: pd.DataFrame) -> None:
    with pytest.raises(causalgrad.GraphError, match="zzz"):
        causalgrad.discover(planted, require=["a -> zzz"])
    with pytest.raises(causalgrad.GraphError, match="edge"):
        causalgrad.discover(planted, forbid=["a, b"])
    with pytest.raises(causalgrad.ModelError, match="method"):
        causalgrad.discover(planted, method="pc")
    with pytest.raises(causalgrad.GraphError, match="cycle"):
        causalgrad.discover(planted, require=["a -> b", "b -> a"])
    bad = planted.assign(a=planted["a"].where(planted.index != 3))
    with pytest.raises(causalgrad.DataError, match="row 4"):
        causalgrad.discover(bad)
