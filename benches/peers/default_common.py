"""Shared helpers for the default-model peer benchmarks (numpy only; framework-free).

The model is causalgrad's default model on the scm5 graph (`data/scm5/graph.dot`):
every variable with parents has as its mean a `k -> 16 -> 1` tanh MLP of its parents,
every root a learned mean (start 0), and every variable additive Gaussian noise with a
learned log-scale (start 0). Graph parsing, the initialisation, data loading, the
interventional Monte Carlo and the printed summary are done here in numpy, so that JAX
and PyTorch differ only in the fitting loop (the same split as shared/peers/scm5_common.py).
"""
import argparse
import importlib.util
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# The repository's copy of the scm5 material (byte-identical to shared/data/scm5).
DATA = os.environ.get("SCM5_DATA", os.path.normpath(os.path.join(HERE, "..", "..", "data", "scm5")))
GENERATE = os.path.join(DATA, "generate.py")
DOT = os.path.join(DATA, "graph.dot")
TRAIN_10K = os.path.join(DATA, "train_10k.csv")
# Scratch space for generated data (the same default as the scm5 peers, so the
# 100k file is shared with them).
WORK = os.environ.get("PEERS_DIR", os.path.join(tempfile.gettempdir(), "scm5-peers"))
HIDDEN = 16
SEED = 0
DO_MC_SAMPLES = 100_000
DO_MC_SEED = 4242
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def parse_args(desc):
    ap = argparse.ArgumentParser(description=desc)
    ap.add_argument("csv", nargs="?", default=None,
                    help="CSV with header x1..x5 (default: generate --n rows, seed 1, "
                         "into $PEERS_DIR/scm5_train_<n>.csv via generate.py)")
    ap.add_argument("--n", type=int, default=100_000,
                    help="rows to generate when no CSV is given (default 100000)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=2)
    return ap.parse_args()


# ---------------------------------------------------------------- graph
def read_graph(path=DOT):
    """Nodes and edges of a DOT file, in declaration order."""
    with open(path) as f:
        text = f.read()
    body = text[text.index("{") + 1:text.rindex("}")]
    nodes, edges = [], []
    for stmt in body.split(";"):
        stmt = stmt.strip()
        if not stmt:
            continue
        m = re.fullmatch(r"(\w+)\s*->\s*(\w+)", stmt)
        if m:
            a, b = m.groups()
            for v in (a, b):
                if v not in nodes:
                    nodes.append(v)
            edges.append((a, b))
        elif re.fullmatch(r"\w+", stmt):
            if stmt not in nodes:
                nodes.append(stmt)
        else:
            raise ValueError(f"unsupported DOT statement: {stmt!r}")
    return nodes, edges


def topological(nodes, edges):
    """Kahn's algorithm, ties broken by declaration order."""
    parents = {v: [a for a, b in edges if b == v] for v in nodes}
    done, order = set(), []
    while len(order) < len(nodes):
        for v in nodes:
            if v not in done and all(p in done for p in parents[v]):
                order.append(v)
                done.add(v)
                break
        else:
            raise ValueError("graph has a cycle")
    return order, parents


class Model:
    """The default model's structure: topological order, parents, column indices."""

    def __init__(self, columns, dot=DOT):
        nodes, edges = read_graph(dot)
        self.order, self.parents = topological(nodes, edges)
        self.columns = list(columns)
        assert sorted(self.columns) == sorted(nodes), (self.columns, nodes)
        self.col = {v: self.columns.index(v) for v in self.columns}
        self.roots = [v for v in self.order if not self.parents[v]]
        self.children = [v for v in self.order if self.parents[v]]

    def describe(self):
        parts = []
        for v in self.order:
            ps = self.parents[v]
            parts.append(f"{v}: " + (f"MLP({','.join(ps)}) {len(ps)}->{HIDDEN}->1 tanh" if ps
                                     else "learned mean"))
        return "; ".join(parts)

    def n_params(self):
        total = len(self.order)  # log-scales
        for v in self.order:
            k = len(self.parents[v])
            total += (k * HIDDEN + HIDDEN + HIDDEN + 1) if k else 1
        return total


def init_arrays(model, seed=SEED):
    """Initial parameters (float32 numpy), the same for both peers.

    As in causalgrad's default model (cli/src/spec.rs, src/scm/mlp.rs): the variable at
    position i of the topological order gets an MLP seeded with seed + i; each layer draws
    its weight [fan_in, fan_out] (row-major) and then its bias [fan_out], uniform in
    +-1/sqrt(fan_in). causalgrad draws from Rust's StdRng; here numpy's default_rng(seed + i)
    is used, so the distribution and layout match but the values do not.
    Roots: mean 0. Every variable: log-scale 0.
    """
    p = {"log_scale": np.zeros(len(model.order), dtype=np.float32), "root_mean": {}, "mlp": {}}
    for i, v in enumerate(model.order):
        k = len(model.parents[v])
        if k == 0:
            p["root_mean"][v] = np.zeros((), dtype=np.float32)
            continue
        rng = np.random.default_rng(seed + i)
        layers = []
        for fan_in, fan_out in ((k, HIDDEN), (HIDDEN, 1)):
            bound = 1.0 / math.sqrt(max(fan_in, 1))
            w = rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(np.float32)
            b = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
            layers += [w, b]
        p["mlp"][v] = dict(zip(["W1", "b1", "W2", "b2"], layers))
    return p


# ---------------------------------------------------------------- data
def _size_tag(n):
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def default_csv(n):
    path = os.path.join(WORK, f"scm5_train_{_size_tag(n)}.csv")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + f".tmp{os.getpid()}"
        subprocess.check_call([sys.executable, GENERATE, "--n", str(n),
                               "--seed", "1", "--out", tmp])
        os.replace(tmp, path)
    return path


def load_csv(path, n=100_000):
    """(path, header, float32 array [n, 5]).

    Files generated into $PEERS_DIR get a .npy cache next to them (parsing the 1M-row CSV
    takes seconds); a CSV given on the command line is parsed every time and nothing is
    written next to it."""
    generated = path is None
    if generated:
        path = default_csv(n)
    with open(path) as f:
        header = f.readline().strip().split(",")
    cache = path + ".npy"
    if generated and os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        x = np.load(cache)
    else:
        x = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64).astype(np.float32)
        if generated:
            np.save(cache, x)
    return path, header, x


# ---------------------------------------------------------------- truth / do(x2)
def _generator():
    spec = importlib.util.spec_from_file_location("scm5_generate", GENERATE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def truth():
    """True noise scales and E[x5 | do(x2 = +-1)] (Gauss-Hermite, from generate.py)."""
    g = _generator()
    return {"noise": dict(g.NOISE),
            "do_x2_1": g.do_x5_quadrature(1.0), "do_x2_m1": g.do_x5_quadrature(-1.0)}


def do_mean(model, p, target="x5", var="x2", value=1.0, n=DO_MC_SAMPLES, seed=DO_MC_SEED):
    """E[target | do(var=value)] under fitted params p (numpy), Monte Carlo in float64."""
    z = np.random.default_rng(seed).standard_normal((n, len(model.order)))
    ls = np.asarray(p["log_scale"], dtype=np.float64)
    vals = {}
    for i, v in enumerate(model.order):
        if v == var:
            vals[v] = np.full(n, float(value))
            continue
        ps = model.parents[v]
        if ps:
            m = p["mlp"][v]
            X = np.stack([vals[q] for q in ps], axis=1)
            hid = np.tanh(X @ np.asarray(m["W1"], np.float64) + np.asarray(m["b1"], np.float64))
            mean = (hid @ np.asarray(m["W2"], np.float64)).ravel() + float(np.asarray(m["b2"]).ravel()[0])
        else:
            mean = np.full(n, float(p["root_mean"][v]))
        vals[v] = mean + math.exp(ls[i]) * z[:, i]
    return float(vals[target].mean())


def step_stats(times_s):
    """(mean ms, median ms) over the per-step wall times of steps 2..S."""
    t = np.asarray(times_s, dtype=np.float64) * 1e3
    if t.size == 0:
        return float("nan"), float("nan")
    return float(t.mean()), float(np.median(t))


def summarize(framework, version, mode, path, n, model, p, warmup_s, step_times_s,
              final_loss, threads_note, steps):
    ms_mean, ms_median = step_stats(step_times_s)
    t = truth()
    fit_sig = np.exp(np.asarray(p["log_scale"], dtype=np.float64))
    true_sig = np.asarray([t["noise"][v] for v in model.order])
    do_p1 = do_mean(model, p, value=1.0)
    do_m1 = do_mean(model, p, value=-1.0)
    print(f"[{framework} {mode}] data={path} n={n} steps={steps} params={model.n_params()}")
    print(f"  model: {model.describe()}")
    print(f"  threads: {threads_note}")
    print(f"  warmup (first step incl. compile): {warmup_s:.3f} s")
    print(f"  per step after warmup (steps 2..{steps}): mean {ms_mean:.3f} ms, "
          f"median {ms_median:.3f} ms")
    print(f"  final loss: {final_loss:.6f}")
    print("  sigma fit   : " + " ".join(f"{v}={s:.4f}" for v, s in zip(model.order, fit_sig))
          + "   truth: " + " ".join(f"{s:.4f}" for s in true_sig))
    print(f"  E[x5|do(x2=1)]  fitted={do_p1:.4f}  truth={t['do_x2_1']:.4f}")
    print(f"  E[x5|do(x2=-1)] fitted={do_m1:.4f}  truth={t['do_x2_m1']:.4f}")
    out = {
        "framework": framework, "version": version, "mode": mode, "model": "default",
        "data": os.path.basename(path), "n": int(n), "steps": steps,
        "params": model.n_params(),
        "warmup_s": round(warmup_s, 4),
        "ms_per_step": round(ms_mean, 4), "ms_per_step_median": round(ms_median, 4),
        "final_loss": round(float(final_loss), 6),
        "sigma_fit": [round(float(v), 5) for v in fit_sig],
        "do_x2_1_fit": round(do_p1, 5), "do_x2_1_truth": round(t["do_x2_1"], 5),
        "do_x2_m1_fit": round(do_m1, 5), "do_x2_m1_truth": round(t["do_x2_m1"], 5),
        "threads": threads_note, "python": platform.python_version(),
    }
    print(json.dumps(out))
    return out
