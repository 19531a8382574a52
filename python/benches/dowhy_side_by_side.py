"""DoWhy's gcm and causalgrad's, side by side in one sitting: the same
calls (fit, average causal effect, bootstrap interval) on the same data,
with each library's gcm module, then causalgrad's ensemble interval.

    python python/benches/dowhy_side_by_side.py [--resamples 10] [--out table.md]

Needs dowhy (pip install dowhy) besides causalgrad. Prints a Markdown
table: seconds and absolute error against the known effect.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from typing import Any, Callable, Dict, List

import networkx as nx
import numpy as np
import pandas as pd

REPO = pathlib.Path(__file__).resolve().parents[2]


def scm5() -> Dict[str, Any]:
    truth = json.loads((REPO / "data" / "scm5" / "truth.json").read_text())
    hi = truth["interventions"]["do(x2=1.0)"]["E_x5_gauss_hermite"]
    lo = truth["interventions"]["do(x2=-1.0)"]["E_x5_gauss_hermite"]
    return {
        "name": "scm5 (10 000 rows, non-linear)",
        "data": pd.read_csv(REPO / "data" / "scm5" / "train_10k.csv"),
        "edges": [tuple(e) for e in truth["edges"]],
        "target": "x5",
        "alternative": {"x2": lambda x: 1.0},
        "reference": {"x2": lambda x: -1.0},
        "truth": hi - lo,
    }


def dowhy_linear() -> Dict[str, Any]:
    # data/dowhy_linear/graph.dot, DoWhy's dot_graph.
    edges = [("v0", "y"), ("W0", "v0"), ("W1", "v0"), ("W2", "v0"), ("Z0", "v0"), ("W0", "y"), ("W1", "y"), ("W2", "y")]
    return {
        "name": "dowhy_linear (2 000 rows, linear, beta = 10)",
        "data": pd.read_csv(REPO / "data" / "dowhy_linear" / "data.csv"),
        "edges": edges,
        "target": "y",
        "alternative": {"v0": lambda x: 1.0},
        "reference": {"v0": lambda x: 0.0},
        "truth": 10.0,
    }


def timed(work: Callable[[], Any]) -> tuple:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def run(gcm: Any, case: Dict[str, Any], resamples: int) -> Dict[str, Any]:
    """The DoWhy calls, written once for either library's gcm."""
    np.random.seed(0)
    data = case["data"]
    model = gcm.StructuralCausalModel(nx.DiGraph(case["edges"]))
    _, assign_seconds = timed(
        lambda: gcm.auto.assign_causal_mechanisms(model, data, quality=gcm.auto.AssignmentQuality.GOOD)
    )
    _, fit_seconds = timed(lambda: gcm.fit(model, data))
    ace, ace_seconds = timed(
        lambda: gcm.average_causal_effect(
            model, case["target"], case["alternative"], case["reference"], num_samples_to_draw=10_000
        )
    )
    (median, interval), interval_seconds = timed(
        lambda: gcm.confidence_intervals(
            gcm.fit_and_compute(
                gcm.average_causal_effect,
                model,
                bootstrap_training_data=data,
                target_node=case["target"],
                interventions_alternative=case["alternative"],
                interventions_reference=case["reference"],
                num_samples_to_draw=10_000,
            ),
            num_bootstrap_resamples=resamples,
        )
    )
    low, high = np.ravel(interval)
    return {
        "assign": assign_seconds,
        "fit": fit_seconds,
        "ace": ace,
        "ace_seconds": ace_seconds,
        "interval": (low, high),
        "interval_seconds": interval_seconds,
    }


def ensemble(case: Dict[str, Any]) -> Dict[str, Any]:
    from causalgrad import gcm

    np.random.seed(0)
    data = case["data"]
    model = gcm.StructuralCausalModel(nx.DiGraph(case["edges"]))
    _, assign_seconds = timed(lambda: gcm.auto.assign_causal_mechanisms(model, data))
    _, seconds = timed(lambda: gcm.fit(model, data, members=8))
    (estimate, interval), query_seconds = timed(
        lambda: gcm.ensemble_confidence_intervals(
            model, case["target"], case["alternative"], case["reference"], num_samples_to_draw=10_000
        )
    )
    low, high = interval[case["target"]]
    return {"assign": assign_seconds, "seconds": seconds + query_seconds, "ace": estimate[case["target"]], "interval": (low, high)}


def defaults(case: Dict[str, Any]) -> Dict[str, Any]:
    """causalgrad as a user takes it: no assignment (the default MLPs and
    mixture noise), five ensemble members, the effect with its interval."""
    from causalgrad import gcm

    np.random.seed(0)
    model = gcm.StructuralCausalModel(nx.DiGraph(case["edges"]))
    _, seconds = timed(lambda: gcm.fit(model, case["data"], members=5))
    (estimate, interval), query_seconds = timed(
        lambda: gcm.ensemble_confidence_intervals(
            model, case["target"], case["alternative"], case["reference"], num_samples_to_draw=10_000
        )
    )
    low, high = interval[case["target"]]
    return {"seconds": seconds + query_seconds, "ace": estimate[case["target"]], "interval": (low, high)}


def ensemble_row(case: Dict[str, Any], label: str, result: Dict[str, Any]) -> str:
    """A table row of an ensemble run (its assignment time, if any)."""
    low, high = result["interval"]
    truth = case["truth"]
    assign = f"{result['assign']:.2f}" if "assign" in result else ""
    return (
        f"| {case['name']} | {label} | {assign} | {result['seconds']:.2f} (fit + members + ACE) "
        f"| {result['ace']:.4f} ({abs(result['ace'] - truth):.4f}) | | [{low:.4f}, {high:.4f}] (ensemble) "
        f"| {'yes' if low <= truth <= high else 'no'} | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resamples", type=int, default=10, help="bootstrap refits for the interval")
    parser.add_argument("--out", type=pathlib.Path, help="also write the table here")
    args = parser.parse_args()

    import dowhy
    from dowhy import gcm as dowhy_gcm

    import causalgrad
    from causalgrad import gcm as causalgrad_gcm

    dowhy_gcm.config.disable_progress_bars()
    rows: List[str] = [
        "| data | library | assign s | fit s | ACE (error) | ACE s | bootstrap interval | covers | interval s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in (scm5(), dowhy_linear()):
        truth = case["truth"]
        for label, gcm in ((f"DoWhy {dowhy.__version__} gcm (GOOD)", dowhy_gcm), ("causalgrad gcm", causalgrad_gcm)):
            r = run(gcm, case, args.resamples)
            low, high = r["interval"]
            rows.append(
                f"| {case['name']} | {label} | {r['assign']:.2f} | {r['fit']:.2f} | {r['ace']:.4f} ({abs(r['ace'] - truth):.4f}) "
                f"| {r['ace_seconds']:.2f} | [{low:.4f}, {high:.4f}] | {'yes' if low <= truth <= high else 'no'} "
                f"| {r['interval_seconds']:.1f} |"
            )
            print(rows[-1], flush=True)
        for label, result in (("causalgrad, 8 ensemble members", ensemble(case)), ("causalgrad defaults, 5 members", defaults(case))):
            rows.append(ensemble_row(case, label, result))
            print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(f"\ntruths: scm5 {scm5()['truth']:.5f}, dowhy_linear 10; causalgrad {causalgrad.__version__}")
    print(table)
    if args.out:
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
