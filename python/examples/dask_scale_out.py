"""Per-segment fits on a Dask cluster: one causalgrad model per segment of
a data set (e.g. per region or store), each fitted and asked for its
average causal effect, first in a serial loop, then as Dask tasks on a
``LocalCluster`` of worker processes. Models pickle as their model file's
bytes, so the fitted models come back from the workers whole.

    pip install "dask[distributed]"
    python python/examples/dask_scale_out.py --segments 8 --workers 2

It prints each way's wall-clock time and the speed-up, and checks that
both give the same effects (fits are deterministic for a seed).
Each worker runs one task at a time with one Rayon thread
(``RAYON_NUM_THREADS=1``), so the cluster's parallelism is its worker
count; the serial loop runs with the same setting.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import numpy as np
import pandas as pd

import causalgrad

EDGES = [("t", "y"), ("w", "t"), ("w", "y")]


def segment_data(segment: int, rows: int) -> pd.DataFrame:
    """A segment's data: a confounder w, a treatment t, an outcome y with a
    segment-specific effect 1 + segment / 10 of t."""
    rng = np.random.default_rng(segment)
    w = rng.normal(size=rows)
    t = 0.8 * w + rng.normal(scale=0.6, size=rows)
    y = (1 + segment / 10) * t + np.tanh(2 * w) + rng.normal(scale=0.5, size=rows)
    return pd.DataFrame({"w": w, "t": t, "y": y})


def fit_segment(segment: int, data: pd.DataFrame, steps: int) -> tuple[int, causalgrad.Model, float]:
    """Fits the segment's model; the model and its effect of t on y."""
    model = causalgrad.Model(EDGES)
    model.fit(data, steps=steps, seed=segment)
    effect = model.effect("y", {"t": 1.0}, {"t": 0.0}, n=5000, seed=0)
    return segment, model, effect.estimate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    segments = {s: segment_data(s, args.rows) for s in range(args.segments)}

    started = time.perf_counter()
    serial = [fit_segment(s, data, args.steps) for s, data in segments.items()]
    serial_seconds = time.perf_counter() - started

    started = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           env={"RAYON_NUM_THREADS": "1"}, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(args.workers)
    startup_seconds = time.perf_counter() - started
    try:
        started = time.perf_counter()
        futures = [client.submit(fit_segment, s, client.scatter(data), args.steps, pure=False)
                   for s, data in segments.items()]
        distributed = client.gather(futures)
        dask_seconds = time.perf_counter() - started
    finally:
        client.close()
        cluster.close()

    for (s, _, a), (s2, model, b) in zip(serial, distributed):
        assert s == s2 and abs(a - b) < 1e-9, (s, a, b)
        assert model.is_fitted
    truth = [1 + s / 10 for s in range(args.segments)]
    error = max(abs(e - t) for (_, _, e), t in zip(serial, truth))
    print(f"{args.segments} segments of {args.rows} rows, {args.steps} steps each, on {os.cpu_count()} cores")
    print(f"serial loop:              {serial_seconds:6.2f} s")
    print(f"dask, {args.workers} workers:          {dask_seconds:6.2f} s  (cluster start {startup_seconds:.1f} s not included)")
    print(f"speed-up:                 {serial_seconds / dask_seconds:6.2f}x")
    print(f"largest |effect - truth|: {error:.3f} (same effects both ways)")


if __name__ == "__main__":
    main()
