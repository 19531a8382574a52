"""The package and the command line give the same answers on the same
data and seed, and read each other's model files."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import numpy as np
import pandas as pd
import pytest

import causalgrad
from conftest import REPO


def cli() -> pathlib.Path:
    given = os.environ.get("CAUSALGRAD_CLI")
    path = pathlib.Path(given) if given else REPO / "target" / "debug" / "causalgrad"
    if not path.exists():
        if given:
            pytest.fail(f"CAUSALGRAD_CLI={given} does not exist")
        pytest.skip("the causalgrad binary is not built (cargo build -p causalgrad-cli)")
    return path


def run(*args: str) -> dict:
    out = subprocess.run([str(cli()), *args, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_fit_and_effect_equal_the_command_line_s(tmp_path: pathlib.Path) -> None:
    data_path = REPO / "data" / "scm5" / "train_10k.csv"
    graph = REPO / "data" / "scm5" / "graph.dot"
    cli_model = tmp_path / "cli.cg"
    run("fit", "--data", str(data_path), "--graph", str(graph), "--out", str(cli_model),
        "--steps", "200", "--seed", "3", "--members", "2", "--quiet")
    cli_effect = run("effect", "--model", str(cli_model), "--treatment", "x2", "--outcome", "x5",
                     "--a", "-1", "--b", "1", "--samples", "20000", "--seed", "4")

    model = causalgrad.Model(graph)
    model.fit(pd.read_csv(data_path), steps=200, seed=3, members=2)
    ours = model.effect("x5", {"x2": 1.0}, {"x2": -1.0}, n=20_000, seed=4)
    assert ours.estimate == pytest.approx(cli_effect["ate"], abs=1e-9)
    assert ours.members == pytest.approx(cli_effect["member_estimates"], abs=1e-9)
    assert ours.low == pytest.approx(cli_effect["ci_low"], abs=1e-9)

    # Each reads the other's model file.
    loaded = causalgrad.Model.load(cli_model)
    assert loaded.effect("x5", {"x2": 1.0}, {"x2": -1.0}, n=20_000, seed=4).estimate == pytest.approx(
        cli_effect["ate"], abs=1e-12
    )
    py_model = tmp_path / "python.cg"
    model.save(py_model)
    again = run("effect", "--model", str(py_model), "--treatment", "x2", "--outcome", "x5",
                "--a", "-1", "--b", "1", "--samples", "20000", "--seed", "4")
    assert again["ate"] == pytest.approx(ours.estimate, abs=1e-12)
    samples = run("sample", "--model", str(py_model), "--samples", "100", "--seed", "9",
                  "--out", str(tmp_path / "s.csv"))
    assert samples
    np.testing.assert_allclose(
        pd.read_csv(tmp_path / "s.csv")[model.variables].to_numpy(),
        model.sample(100, seed=9)[model.variables].to_numpy(),
        rtol=1e-6,
    )


def test_a_fit_over_contexts_equals_the_command_line_s(tmp_path: pathlib.Path) -> None:
    scm5 = REPO / "data" / "scm5"
    cli_model = tmp_path / "contexts.cg"
    run("fit", "--contexts", str(scm5 / "contexts.toml"), "--graph", str(scm5 / "graph.dot"),
        "--out", str(cli_model), "--steps", "150", "--seed", "2", "--members", "2", "--quiet")
    arguments = ["--treatment", "x4", "--outcome", "x5", "--a", "0", "--b", "1", "--samples", "5000", "--seed", "1"]
    cli_shared = run("effect", "--model", str(cli_model), *arguments)
    cli_changed = run("effect", "--model", str(cli_model), "--context", "x5-changed", *arguments)

    model = causalgrad.Model(scm5 / "graph.dot")
    model.fit_contexts(causalgrad.ContextGraph.from_toml(scm5 / "contexts.toml"), steps=150, seed=2, members=2)
    shared = model.effect("x5", {"x4": 1.0}, {"x4": 0.0}, n=5000, seed=1)
    changed = model.in_context("x5-changed").effect("x5", {"x4": 1.0}, {"x4": 0.0}, n=5000, seed=1)
    assert shared.estimate == pytest.approx(cli_shared["ate"], abs=1e-9)
    assert shared.members == pytest.approx(cli_shared["member_estimates"], abs=1e-9)
    assert changed.estimate == pytest.approx(cli_changed["ate"], abs=1e-9)
    assert changed.high == pytest.approx(cli_changed["ci_high"], abs=1e-9)
    assert changed.estimate != pytest.approx(shared.estimate, abs=1e-3)


def test_selection_equals_the_command_line_s(tmp_path: pathlib.Path) -> None:
    scm5 = REPO / "data" / "scm5"
    data_path = tmp_path / "rows.csv"
    pd.read_csv(scm5 / "train_10k.csv").head(2000).to_csv(data_path, index=False)
    cli_model = tmp_path / "selected.cg"
    fitted = run("fit", "--data", str(data_path), "--graph", str(scm5 / "graph.dot"), "--out", str(cli_model),
                 "--select", "--steps", "150", "--seed", "5", "--members", "0", "--quiet")
    cli_effect = run("effect", "--model", str(cli_model), "--treatment", "x2", "--outcome", "x5",
                     "--a", "-1", "--b", "1", "--samples", "5000", "--seed", "2")

    model = causalgrad.Model(scm5 / "graph.dot")
    selection = model.select(pd.read_csv(data_path), steps=150, seed=5)
    loaded = causalgrad.Model.load(cli_model)
    for variable in model.variables:
        assert model.mechanism(variable) == loaded.mechanism(variable), variable
        assert model.noise(variable) == loaded.noise(variable), variable
    ours = model.effect("x5", {"x2": 1.0}, {"x2": -1.0}, n=5000, seed=2)
    assert ours.estimate == pytest.approx(cli_effect["ate"], abs=1e-9)
    assert selection is not None and fitted
