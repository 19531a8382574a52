"""``ContextGraph`` and ``Model.fit_contexts``: one model fitted jointly to
data from a known model in several contexts, with per-context effects."""

from __future__ import annotations

import pathlib
import pickle

import numpy as np
import pandas as pd
import pytest

import causalgrad


@pytest.fixture(scope="module")
def contexts() -> causalgrad.ContextGraph:
    """x -> y. Observational: y = 1 + 2x + N(0, 0.5). Clamped: do(x = 1.5).
    Site B: y's mechanism changed to y = 0.5 - x + N(0, 0.5)."""
    rng = np.random.default_rng(11)
    n = 1500
    x = rng.normal(size=n)
    obs = pd.DataFrame({"x": x, "y": 1 + 2 * x + rng.normal(scale=0.5, size=n)})
    clamped = pd.DataFrame({"x": np.full(n, 1.5), "y": 1 + 2 * 1.5 + rng.normal(scale=0.5, size=n)})
    xb = rng.normal(size=n)
    site_b = pd.DataFrame({"x": xb, "y": 0.5 - xb + rng.normal(scale=0.5, size=n)})
    return causalgrad.ContextGraph(
        {"obs": obs, "clamped": clamped, "site_b": site_b},
        do={"clamped": {"x": 1.5}},
        changed={"site_b": ["y"]},
    )


@pytest.fixture(scope="module")
def fitted(contexts: causalgrad.ContextGraph) -> causalgrad.Model:
    model = causalgrad.Model([("x", "y")], mechanisms={"y": "linear"})
    summary = model.fit_contexts(contexts, steps=600, learning_rate=0.05, seed=0, validation=0.0)
    assert set(summary.losses) == {"obs", "clamped", "site_b"}
    return model


def test_each_context_has_its_own_effect(fitted: causalgrad.Model) -> None:
    assert fitted.contexts == ["obs", "clamped", "site_b"]
    obs = fitted.in_context("obs").effect("y", {"x": 1.0}, {"x": 0.0}, n=4000)
    site_b = fitted.in_context("site_b").effect("y", {"x": 1.0}, {"x": 0.0}, n=4000)
    assert obs.estimate == pytest.approx(2.0, abs=0.1)
    assert site_b.estimate == pytest.approx(-1.0, abs=0.1)
    # The shared mechanism is the observational one.
    assert fitted.effect("y", {"x": 1.0}, {"x": 0.0}, n=4000).estimate == pytest.approx(2.0, abs=0.1)


def test_a_do_context_answers_with_its_intervention(fitted: causalgrad.Model) -> None:
    samples = fitted.in_context("clamped").sample(4000, seed=3)
    assert np.all(samples["x"] == 1.5)
    assert samples["y"].mean() == pytest.approx(4.0, abs=0.1)
    combined = fitted.in_context("clamped", "site_b").sample(4000, seed=3)
    assert combined["y"].mean() == pytest.approx(-1.0, abs=0.1)


def test_contexts_survive_save_load_and_pickle(fitted: causalgrad.Model, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "contexts.cg"
    fitted.save(path)
    loaded = causalgrad.Model.load(path)
    assert loaded.contexts == ["obs", "clamped", "site_b"]
    again = pickle.loads(pickle.dumps(fitted))
    for model in (loaded, again):
        effect = model.in_context("site_b").effect("y", {"x": 1.0}, {"x": 0.0}, n=4000, seed=5)
        assert effect.estimate == pytest.approx(
            fitted.in_context("site_b").effect("y", {"x": 1.0}, {"x": 0.0}, n=4000, seed=5).estimate, abs=1e-9
        )


def test_bad_context_graphs_raise(contexts: causalgrad.ContextGraph) -> None:
    frame = contexts.data("obs")
    with pytest.raises(causalgrad.ModelError, match="nowhere"):
        causalgrad.ContextGraph({"obs": frame}, do={"nowhere": {"x": 1.0}})
    with pytest.raises(causalgrad.DataError, match="DataFrame"):
        causalgrad.ContextGraph({"obs": frame.to_numpy()})
    model = causalgrad.Model([("x", "y")])
    with pytest.raises(causalgrad.CausalGradError, match="w"):
        model.fit_contexts(causalgrad.ContextGraph({"obs": frame}, do={"obs": {"w": 1.0}}), steps=5)
    with pytest.raises(causalgrad.DataError, match="y"):
        model.fit_contexts(causalgrad.ContextGraph({"obs": frame, "b": frame[["x"]]}), steps=5)
    with pytest.raises(causalgrad.ModelError, match="not fitted over contexts"):
        causalgrad.Model([("x", "y")], mechanisms={"y": "linear"}).in_context("obs")
    with pytest.raises(causalgrad.ModelError, match="unknown|not one of|nowhere"):
        model.fit_contexts(contexts, steps=5, validation=0.0)
        model.in_context("nowhere")


def test_a_context_file_reads_as_the_command_line_reads_it(tmp_path: pathlib.Path) -> None:
    from conftest import REPO

    scm5 = REPO / "data" / "scm5"
    contexts = causalgrad.ContextGraph.from_toml(scm5 / "contexts.toml")
    assert contexts.contexts == ["observational", "x2-clamped", "x3-shifted", "x5-changed"]
    assert contexts.interventions("x2-clamped") == {"do": {"x2": 1.0}, "shift": {}, "changed": []}
    assert contexts.interventions("x3-shifted")["shift"] == {"x3": 1.0}
    assert contexts.interventions("x5-changed")["changed"] == ["x5"]
    expected = pd.read_csv(scm5 / "do_x2_1.csv")
    got = contexts.data("x2-clamped")[list(expected.columns)]
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())

    # Text columns, ties and weighting; paths relative to the file.
    (tmp_path / "a.csv").write_text("site,y\nnorth,1.0\nsouth,2.5\nnorth,0.5\n")
    (tmp_path / "b.csv").write_text("site,y\nsouth,3.0\nnorth,1.5\n")
    (tmp_path / "c.toml").write_text(
        'weighting = "equal"\n[[context]]\nname = "a"\ndata = "a.csv"\n'
        '[[context]]\nname = "b"\ndata = "b.csv"\nshifted = ["y"]\n'
        '[[tie]]\ncontexts = ["a", "b"]\nstrength = 4.0\n'
    )
    small = causalgrad.ContextGraph.from_toml(tmp_path / "c.toml")
    assert small.weighting == "equal"
    assert small._ties == [("a", "b", 4.0)]
    assert list(small.data("a")["site"].astype(str)) == ["north", "south", "north"]

    (tmp_path / "bad.toml").write_text('[[context]]\nname = "a"\ndata = "missing.csv"\n')
    with pytest.raises(causalgrad.CausalGradError, match=r"bad\.toml.*3"):
        causalgrad.ContextGraph.from_toml(tmp_path / "bad.toml")
    (tmp_path / "timed.toml").write_text(
        'time = ["t0"]\n[[context]]\nname = "a"\ndata = "a.csv"\nobserved_at = "t0"\n'
    )
    with pytest.raises(causalgrad.CausalGradError, match="time step"):
        causalgrad.ContextGraph.from_toml(tmp_path / "timed.toml")
