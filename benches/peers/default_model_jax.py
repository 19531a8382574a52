#!/usr/bin/env python3
"""JAX peer of causalgrad's default model on scm5: full-batch Adam, jit'd value_and_grad step.

Model: every variable with parents has mean MLP(parents) k -> 16 -> 1 (tanh hidden layer),
every root a learned mean; every variable Gaussian noise with a learned log-scale.
Loss: mean over rows of the summed per-variable Gaussian NLL. optax.adam(lr, 0.9, 0.999, eps=1e-8).

Usage: python default_model_jax.py [CSV] [--n 100000] [--steps 500] [--lr 0.01] [--threads 2]
  Without CSV: generates --n rows (seed 1) into $PEERS_DIR/scm5_train_<n>.csv via generate.py.
Threads: XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=N"
         and OMP_NUM_THREADS=N are set before jax is imported (as shared/peers/scm5_jax.py).
Timing: step 1 (trace + compile + run) is the warmup; steps 2..S are timed one by one,
each ended by block_until_ready; the mean and the median of those are reported.
"""
import os
import sys
import time

N_THREADS = 2
for i, a in enumerate(sys.argv):
    if a == "--threads" and i + 1 < len(sys.argv):
        N_THREADS = int(sys.argv[i + 1])
os.environ.setdefault(
    "XLA_FLAGS",
    f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={N_THREADS}")
os.environ.setdefault("OMP_NUM_THREADS", str(N_THREADS))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import default_common as C  # noqa: E402


def make_nll(model):
    order = model.order

    def nll(p, cols, parents):
        """cols: {v: [n]}, parents: {v: [n, k]} (the data, fixed)."""
        n = cols[order[0]].shape[0]
        means = []
        for v in order:
            if model.parents[v]:
                m = p["mlp"][v]
                hid = jnp.tanh(parents[v] @ m["W1"] + m["b1"])
                means.append((hid @ m["W2"] + m["b2"])[:, 0])
            else:
                means.append(jnp.broadcast_to(p["root_mean"][v], (n,)))
        x = jnp.stack([cols[v] for v in order], axis=1)     # (n, V)
        r = x - jnp.stack(means, axis=1)                     # (n, V)
        ls = p["log_scale"]
        per = ls + 0.5 * r * r * jnp.exp(-2.0 * ls) + C.HALF_LOG_2PI
        return jnp.mean(jnp.sum(per, axis=1))

    return nll


def main():
    args = C.parse_args("JAX peer of causalgrad's default model on scm5")
    path, header, Xnp = C.load_csv(args.csv, args.n)
    model = C.Model(header)
    cols = {v: jnp.asarray(Xnp[:, model.col[v]]) for v in model.order}
    parents = {v: jnp.asarray(Xnp[:, [model.col[q] for q in model.parents[v]]])
               for v in model.children}
    params = jax.tree_util.tree_map(jnp.asarray, C.init_arrays(model))
    nll = make_nll(model)
    opt = optax.adam(args.lr, b1=0.9, b2=0.999, eps=1e-8)
    state = opt.init(params)

    @jax.jit
    def step(p, s, cols, parents):
        loss, g = jax.value_and_grad(nll)(p, cols, parents)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss

    threads_note = (f"XLA_FLAGS='{os.environ['XLA_FLAGS']}' "
                    f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    t0 = time.perf_counter()
    params, state, loss = step(params, state, cols, parents)
    jax.block_until_ready((params, loss))
    warm = time.perf_counter() - t0
    times = []
    for _ in range(args.steps - 1):
        t0 = time.perf_counter()
        params, state, loss = step(params, state, cols, parents)
        jax.block_until_ready((params, loss))
        times.append(time.perf_counter() - t0)
    final = float(jax.jit(nll)(params, cols, parents))  # loss at the final parameters
    p_np = jax.tree_util.tree_map(np.asarray, params)
    C.summarize("jax", f"jax {jax.__version__} jaxlib {jax.lib.__version__} optax {optax.__version__}",
                "jit-step", path, Xnp.shape[0], model, p_np, warm, times, final,
                threads_note, args.steps)


if __name__ == "__main__":
    main()
