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
