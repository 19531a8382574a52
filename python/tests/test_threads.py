"""Fits and queries release the GIL: other Python threads keep running."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

import causalgrad


def test_a_python_thread_runs_during_a_fit() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=20_000)
    data = pd.DataFrame({"x": x, "y": np.tanh(x) + rng.normal(scale=0.3, size=20_000)})
    model = causalgrad.Model([("x", "y")])
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    thread = threading.Thread(target=count)
    thread.start()
    try:
        before = ticks
        summary = model.fit(data, steps=300, patience=0)
        during = ticks - before
    finally:
        done.set()
        thread.join()
    assert summary.steps == 300
    # With the GIL held for the whole fit the thread could not count at all
    # (a switch interval is 5 ms); released, it counts all along.
    assert during > 10_000, during
