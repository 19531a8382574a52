"""JAX-jit's gradient of the Gaussian-mixture log-likelihood against its objective.

The same program as `gmm` in `benches/programs/loops.rs` (ADBench's
objective without its constant, with the Wishart prior of gamma = 1, m = 0),
written the way JAX wants it: batched over points and components.

    python3 -m venv /tmp/venv-jax && /tmp/venv-jax/bin/pip install numpy "jax[cpu]"
    /tmp/venv-jax/bin/python benches/peers/gmm_jax.py [d k n]

Prints the objective's time, value_and_grad's time (best of several runs of
a jitted function, after compiling) and their ratio.
"""

import sys
import timeit

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def unpack_q(icf, d):
    """The lower-triangular factors Q (k x d x d) from the icf parameters."""
    k = icf.shape[0]
    diag = jnp.exp(icf[:, :d])
    rows, cols = [], []
    for col in range(d):
        for row in range(col + 1, d):
            rows.append(row)
            cols.append(col)
    lower = jnp.zeros((k, d, d)).at[:, jnp.array(rows, dtype=int), jnp.array(cols, dtype=int)].set(icf[:, d:])
    return lower + jax.vmap(jnp.diag)(diag)


def gmm(alphas, means, icf, x):
    """The objective: slse - n * logsumexp(alphas) + the Wishart prior."""
    n, d = x.shape
    q = unpack_q(icf, d)
    sum_qs = jnp.sum(icf[:, :d], axis=1)
    centered = x[:, None, :] - means[None, :, :]
    qx = jnp.einsum("kij,nkj->nki", q, centered)
    main_term = alphas[None, :] + sum_qs[None, :] - 0.5 * jnp.sum(qx * qx, axis=2)
    slse = jnp.sum(jax.scipy.special.logsumexp(main_term, axis=1))
    frobenius = jnp.sum(jnp.exp(icf[:, :d]) ** 2) + jnp.sum(icf[:, d:] ** 2)
    prior = 0.5 * frobenius - jnp.sum(sum_qs)
    return slse - n * jax.scipy.special.logsumexp(alphas) + prior


def best_seconds(f, repeats=20):
    """The fastest of `repeats` timed runs of `f()` (results blocked on)."""
    f()
    return min(timeit.repeat(f, number=1, repeat=repeats))


def main():
    d, k, n = (int(arg) for arg in sys.argv[1:4]) if len(sys.argv) == 4 else (10, 25, 1000)
    rng = np.random.default_rng(0)
    alphas = jnp.array(rng.uniform(-1.0, 1.0, k))
    means = jnp.array(rng.uniform(-1.0, 1.0, (k, d)))
    icf = jnp.array(rng.uniform(-0.5, 0.5, (k, d * (d + 1) // 2)))
    x = jnp.array(rng.uniform(-2.0, 2.0, (n, d)))
    objective = jax.jit(gmm)
    gradient = jax.jit(jax.value_and_grad(gmm, argnums=(0, 1, 2)))
    primal = best_seconds(lambda: objective(alphas, means, icf, x).block_until_ready())
    grad = best_seconds(lambda: jax.block_until_ready(gradient(alphas, means, icf, x)))
    print(f"gmm d={d} k={k} n={n}: objective {primal * 1e3:.3f} ms, "
          f"value_and_grad {grad * 1e3:.3f} ms, ratio {grad / primal:.2f}")


if __name__ == "__main__":
    main()
