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


def test_discovery_over_contexts_equals_the_command_line_s(tmp_path) -> None:
    import json
    import os
    import subprocess

    from conftest import REPO

    binary = os.environ.get("CAUSALGRAD_CLI") or str(REPO / "target" / "debug" / "causalgrad")
    if not os.path.exists(binary):
        pytest.skip("the causalgrad binary is not built (cargo build -p causalgrad-cli)")
    toml = REPO / "data" / "scm5" / "contexts.toml"
    out = subprocess.run(
        [binary, "discover", "--contexts", str(toml), "--out", str(tmp_path / "g.dot"), "--json", "--quiet"],
        check=True, capture_output=True, text=True,
    )
    cli = {(e["from"], e["to"]): e["weight"] for e in json.loads(out.stdout)["edges"]}

    model = causalgrad.Model.discover(causalgrad.ContextGraph.from_toml(toml))
    ours = {(e.source, e.target): e.weight for e in model.discovery.edges}
    assert set(ours) == set(cli) and cli
    for edge, weight in cli.items():
        assert ours[edge] == pytest.approx(weight, abs=1e-9), edge
    # Observational rows alone give another graph: the contexts matter.
    alone = causalgrad.Model.discover(pd.read_csv(REPO / "data" / "scm5" / "train_10k.csv"))
    assert set(alone.edges) != set(model.edges)


def test_a_labelled_do_value_is_refused_by_discovery() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    contexts = causalgrad.ContextGraph({"obs": frame, "set": frame}, do={"set": {"a": "high"}})
    with pytest.raises(causalgrad.CausalGradError, match="number"):
        causalgrad.Model.discover(contexts)
