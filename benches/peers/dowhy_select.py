"""DoWhy gcm's default path on the bundled scm5 data, timed beside
`causalgrad fit --select` and `causalgrad fit` + `effect`.

Times, on `data/scm5/train_10k.csv` with `data/scm5/graph.dot`:
  - assign: `gcm.auto.assign_causal_mechanisms(model, df, quality=GOOD)`
    (DoWhy's mechanism selection),
  - fit: `gcm.fit(model, df)`,
  - effect: `gcm.average_causal_effect` of x2 on x5, do(x2 = 1) against
    do(x2 = -1), with 10,000 samples, and DoWhy's bootstrap interval of it
    (`gcm.confidence_intervals` over `fit_and_compute`, its default
    settings) when `--intervals` is given.
Prints one JSON object: the seconds of each step, the chosen mechanism
per variable and the effect (true value -0.584, `data/scm5/truth.json`).

    python benches/peers/dowhy_select.py [--intervals]
"""

import argparse
import json
import re
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from dowhy import gcm

ROOT = Path(__file__).resolve().parents[2]


def read_graph(path):
    edges = re.findall(r'"?(\w+)"?\s*->\s*"?(\w+)"?', path.read_text())
    return nx.DiGraph(edges)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT / "data/scm5/train_10k.csv"))
    parser.add_argument("--graph", default=str(ROOT / "data/scm5/graph.dot"))
    parser.add_argument("--intervals", action="store_true")
    args = parser.parse_args()
    np.random.seed(0)
    gcm.util.general.set_random_seed(0)
    df = pd.read_csv(args.data)
    graph = read_graph(Path(args.graph))
    df = df[list(graph.nodes)]

    model = gcm.InvertibleStructuralCausalModel(graph)
    started = time.perf_counter()
    gcm.auto.assign_causal_mechanisms(model, df, quality=gcm.auto.AssignmentQuality.GOOD)
    assign = time.perf_counter() - started

    started = time.perf_counter()
    gcm.fit(model, df)
    fit = time.perf_counter() - started

    def effect(m):
        return gcm.average_causal_effect(
            m,
            "x5",
            interventions_alternative={"x2": lambda x: 1.0},
            interventions_reference={"x2": lambda x: -1.0},
            num_samples_to_draw=10_000,
        )

    started = time.perf_counter()
    ate = effect(model)
    effect_seconds = time.perf_counter() - started

    result = {
        "assign_seconds": assign,
        "fit_seconds": fit,
        "effect_seconds": effect_seconds,
        "ate": float(ate),
        "mechanisms": {
            node: str(model.causal_mechanism(node)) for node in graph.nodes
        },
    }
    if args.intervals:
        started = time.perf_counter()
        median, interval = gcm.confidence_intervals(
            gcm.fit_and_compute(effect, model, bootstrap_training_data=df),
        )
        result["interval_seconds"] = time.perf_counter() - started
        result["interval"] = [float(v) for v in np.ravel(interval)]
        result["interval_median"] = float(np.ravel(median)[0])
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
