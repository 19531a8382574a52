"""Shared fixtures: the repository's data and small data sets from known models."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def repo() -> pathlib.Path:
    return REPO


@pytest.fixture
def chain_data() -> pd.DataFrame:
    """X -> Y -> Z with Y = 2X + N(0, 1), Z = 3Y + N(0, 1): the ACE of X on Z is 6."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=3000)
    y = 2 * x + rng.normal(size=3000)
    z = 3 * y + rng.normal(size=3000)
    return pd.DataFrame({"X": x, "Y": y, "Z": z})


@pytest.fixture
def mixed_data() -> pd.DataFrame:
    """A binary treatment (int 0/1), a categorical colour (pandas categorical),
    a text region (object), a boolean flag and a continuous outcome."""
    rng = np.random.default_rng(2)
    n = 2000
    region = rng.choice(["north", "south"], size=n)
    t = (rng.random(n) < np.where(region == "north", 0.3, 0.7)).astype(np.int64)
    colour = pd.Categorical(
        np.where(rng.random(n) < 0.5 + 0.3 * t, "red", np.where(rng.random(n) < 0.5, "green", "blue")),
        categories=["blue", "green", "red"],
    )
    flag = rng.random(n) < 0.4
    y = 1.5 * t + (region == "north") * 1.0 + 0.5 * flag + rng.normal(scale=0.5, size=n)
    return pd.DataFrame({"region": region, "t": t, "colour": colour, "flag": flag, "y": y})


MIXED_EDGES = [("region", "t"), ("t", "colour"), ("t", "y"), ("region", "y"), ("flag", "y")]
