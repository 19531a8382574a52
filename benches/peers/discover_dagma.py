"""Structure learning side by side: `causalgrad discover` against the `dagma` package.

Data come from dagma's own simulators: Erdos-Renyi DAGs with `2d` edges, linear-Gaussian
SEMs (`simulate_parameter`, `simulate_linear_sem(W, n, 'gauss')`), n = 1000, and for d = 20
an MLP SEM (`simulate_nonlinear_sem(B, n, 'mlp')`). Each data set is written as CSV (raw, and
standardised column by column), with its true graph as DOT and as a 0/1 adjacency CSV.

On every file, in the same sitting:
- dagma: `DagmaLinear(loss_type='l2').fit(X, lambda1=0.02)` (its README's call; every other
  setting its default), or `DagmaNonlinear(DagmaMLP([d, 10, 1])).fit(X, lambda1=0.02,
  lambda2=0.005)`; the seconds are `fit` alone.
- causalgrad: `causalgrad discover --data FILE --out g.dot --json` (with `--raw` on the raw
  files, so that both see the same numbers; `--method mlp` on the MLP data; `--solver
  quasi-newton` on the linear data with `--solver quasi-newton`); the seconds are
  the command's wall clock (process start, CSV read, search, DOT write), and the JSON's own
  `seconds` (CSV read, search, DOT write) is recorded too.

Accuracy is dagma's `count_accuracy` for both (SHD counts a reversed edge once). One JSON line
per run goes to `--results`, and a markdown table to stdout.

    /tmp/venv-dagma/bin/python benches/peers/discover_dagma.py \
        --causalgrad ./target/debug/causalgrad --work /tmp/discover-dagma \
        --results benches/peers/results_discover.jsonl
"""

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time

# dagma's fit draws a tqdm bar per call; keep stderr for the results.
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402

from dagma import utils  # noqa: E402
from dagma.linear import DagmaLinear  # noqa: E402


def write_csv(path, X):
    d = X.shape[1]
    header = ",".join(f"x{j + 1}" for j in range(d))
    np.savetxt(path, X, delimiter=",", header=header, comments="", fmt="%.17g")


def write_truth(directory, B):
    d = B.shape[0]
    np.savetxt(os.path.join(directory, "truth.csv"), B, delimiter=",", fmt="%d")
    with open(os.path.join(directory, "truth.dot"), "w") as out:
        out.write("digraph truth {\n")
        for j in range(d):
            out.write(f"  x{j + 1};\n")
        for i, j in zip(*np.nonzero(B)):
            out.write(f"  x{i + 1} -> x{j + 1};\n")
        out.write("}\n")


def standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def varsortability(X, B):
    """Reisach et al. (2021): the share of directed paths (here: edges) along which the
    marginal variance increases (ties count half). 0.5 means no variance ordering."""
    var = X.var(axis=0)
    edges = list(zip(*np.nonzero(B)))
    if not edges:
        return float("nan")
    score = sum(1.0 if var[j] > var[i] else 0.5 if var[j] == var[i] else 0.0 for i, j in edges)
    return score / len(edges)


def accuracy(B, B_est):
    acc = utils.count_accuracy(B, B_est)
    return {"shd": int(acc["shd"]), "tpr": acc["tpr"], "fdr": acc["fdr"], "nnz": int(acc["nnz"])}


def run_dagma_linear(X):
    model = DagmaLinear(loss_type="l2")
    start = time.perf_counter()
    W = model.fit(X, lambda1=0.02)
    return W, time.perf_counter() - start


def run_dagma_mlp(X, seed):
    import torch
    from dagma.nonlinear import DagmaMLP, DagmaNonlinear

    torch.manual_seed(seed)
    d = X.shape[1]
    eq_model = DagmaMLP(dims=[d, 10, 1], bias=True, dtype=torch.double)
    model = DagmaNonlinear(eq_model, dtype=torch.double)
    start = time.perf_counter()
    W = model.fit(X, lambda1=0.02, lambda2=0.005)
    return W, time.perf_counter() - start


def run_causalgrad(binary, csv, out_dir, raw, method, solver):
    dot = os.path.join(out_dir, "learned.dot")
    command = [binary, "discover", "--data", csv, "--out", dot, "--quiet", "--json"]
    if raw:
        command.append("--raw")
    if method != "linear":
        command += ["--method", method]
    if solver != "adam":
        command += ["--solver", solver]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    report = json.loads(done.stdout)
    names = report["variables"]
    index = {name: k for k, name in enumerate(names)}
    B_est = np.zeros((len(names), len(names)))
    for edge in report["edges"]:
        B_est[index[edge["from"]], index[edge["to"]]] = 1
    return B_est, wall, report["seconds"], " ".join(command)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--causalgrad", default="./target/debug/causalgrad")
    parser.add_argument("--work", default="/tmp/discover-dagma", help="where the data go")
    parser.add_argument("--results", default="benches/peers/results_discover.jsonl")
    parser.add_argument("--sizes", default="20,50,100")
    parser.add_argument("--seeds", default="1", help="comma-separated simulation seeds")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--no-mlp", action="store_true", help="skip the d = 20 MLP setting")
    parser.add_argument("--only", choices=["both", "dagma", "causalgrad"], default="both")
    parser.add_argument("--solver", choices=["adam", "quasi-newton"], default="adam",
                        help="causalgrad's central-path solver (--solver) on the linear settings")
    args = parser.parse_args()

    sizes = [int(d) for d in args.sizes.split(",") if d]
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = [("linear", d) for d in sizes]
    if not args.no_mlp:
        settings.append(("mlp", 20))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    print(f"machine: {machine}", file=sys.stderr)

    rows = []
    with open(args.results, "a") as results:
        for sem, d in settings:
            for seed in seeds:
                utils.set_random_seed(seed)
                B = utils.simulate_dag(d, 2 * d, "ER")
                if sem == "linear":
                    W_true = utils.simulate_parameter(B)
                    X = utils.simulate_linear_sem(W_true, args.n, "gauss")
                else:
                    X = utils.simulate_nonlinear_sem(B, args.n, "mlp")
                directory = os.path.join(args.work, f"{sem}_d{d}_seed{seed}")
                os.makedirs(directory, exist_ok=True)
                write_truth(directory, B)
                for variant, data in [("raw", X), ("standardised", standardise(X))]:
                    csv = os.path.join(directory, f"{variant}.csv")
                    write_csv(csv, data)
                    # dagma reads the same numbers the CSV holds.
                    data = np.loadtxt(csv, delimiter=",", skiprows=1)
                    row = {
                        "sem": sem,
                        "d": d,
                        "edges": int(B.sum()),
                        "n": args.n,
                        "seed": seed,
                        "data": variant,
                        "varsortability": varsortability(data, B),
                        "machine": machine,
                        "dagma_version": importlib.metadata.version("dagma"),
                    }
                    if args.only in ("both", "causalgrad"):
                        solver = args.solver if sem == "linear" else "adam"
                        B_ours, wall, own, command = run_causalgrad(
                            args.causalgrad, csv, directory, variant == "raw", sem, solver
                        )
                        row["causalgrad"] = {
                            **accuracy(B, B_ours),
                            "seconds_wall": wall,
                            "seconds_json": own,
                            "solver": solver,
                            "command": command,
                        }
                        print(f"{sem} d={d} seed={seed} {variant}: causalgrad "
                              f"{row['causalgrad']}", file=sys.stderr, flush=True)
                    if args.only in ("both", "dagma"):
                        if sem == "linear":
                            W_est, seconds = run_dagma_linear(data)
                        else:
                            W_est, seconds = run_dagma_mlp(data, seed)
                        row["dagma"] = {**accuracy(B, (W_est != 0).astype(float)),
                                        "seconds_fit": seconds}
                        print(f"{sem} d={d} seed={seed} {variant}: dagma {row['dagma']}",
                              file=sys.stderr, flush=True)
                    results.write(json.dumps(row) + "\n")
                    results.flush()
                    rows.append(row)

    print("| SEM | d | edges | data | varsort. | dagma SHD | TPR | FDR | s (fit) "
          "| causalgrad SHD | TPR | FDR | s (wall) | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        ours, theirs = row.get("causalgrad"), row.get("dagma")

        def cells(r, key):
            if r is None:
                return "– | – | – | –"
            return f"{r['shd']} | {r['tpr']:.2f} | {r['fdr']:.2f} | {r[key]:.1f}"

        speed = (f"{theirs['seconds_fit'] / ours['seconds_wall']:.1f}x"
                 if ours and theirs else "–")
        print(f"| {row['sem']} | {row['d']} | {row['edges']} | {row['data']} "
              f"| {row['varsortability']:.2f} | {cells(theirs, 'seconds_fit')} "
              f"| {cells(ours, 'seconds_wall')} | {speed} |")


if __name__ == "__main__":
    main()
