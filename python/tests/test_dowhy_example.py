"""DoWhy's introductory example runs unchanged except for its import."""

from __future__ import annotations

import pathlib
import runpy

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "examples" / "dowhy_intro.py"


def run(tmp_path: pathlib.Path, module: str) -> dict:
    text = SCRIPT.read_text()
    assert text.count("from causalgrad import gcm") == 1
    path = tmp_path / f"intro_{module}.py"
    path.write_text(text.replace("from causalgrad import gcm", f"from {module} import gcm"))
    return runpy.run_path(str(path))


def test_the_intro_example_gives_the_chain_s_answers(tmp_path: pathlib.Path) -> None:
    result = run(tmp_path, "causalgrad")
    samples = result["samples"]
    assert list(samples.columns) == ["X", "Y", "Z"] and len(samples) == 1000
    assert (samples["Y"] == 2.34).all()
    # Z | do(Y = 2.34) = 3 · 2.34 + N(0, 1).
    assert abs(samples["Z"].mean() - 7.02) < 0.3
    assert abs(samples["X"].mean()) < 0.15
    cf = result["counterfactuals"]
    # The row's noise: Y = 2X + 0.5, Z = 3Y + 0. With X = 2: Y = 4.5, Z = 13.5.
    assert cf["X"].iloc[0] == 2
    assert abs(cf["Y"].iloc[0] - 4.5) < 0.5
    assert abs(cf["Z"].iloc[0] - 13.5) < 1.5
    assert abs(result["ace"] - 6.0) < 0.8
    # Intervals from 10 refits on 75% subsets, DoWhy's format for a scalar query.
    low, high = np.ravel(result["ace_interval"])
    median = float(np.ravel(result["ace_median"])[0])
    assert 4.5 < low <= median <= high < 7.5


def test_the_same_script_runs_on_dowhy(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("dowhy")
    ours = run(tmp_path, "causalgrad")
    theirs = run(tmp_path, "dowhy")
    assert list(ours["samples"].columns) == list(theirs["samples"].columns)
    assert abs(ours["ace"] - theirs["ace"]) < 1.0
