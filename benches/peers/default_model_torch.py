#!/usr/bin/env python3
"""PyTorch peer of causalgrad's default model on scm5: full-batch Adam, eager mode.

Model: every variable with parents has mean MLP(parents) k -> 16 -> 1 (nn.Linear, tanh,
nn.Linear), every root a learned mean; every variable Gaussian noise with a learned
log-scale. Loss: mean over rows of the summed per-variable Gaussian NLL.
torch.optim.Adam(lr, betas=(0.9, 0.999), eps=1e-8).

Usage: python default_model_torch.py [CSV] [--n 100000] [--steps 500] [--lr 0.01] [--threads 2]
  Without CSV: generates --n rows (seed 1) into $PEERS_DIR/scm5_train_<n>.csv via generate.py.
Threads: torch.set_num_threads(N) (intra-op), plus OMP_NUM_THREADS=N / MKL_NUM_THREADS=N
set before torch is imported; inter-op threads left at torch's default (as shared/peers/scm5_torch.py).
Timing: step 1 is the warmup; steps 2..S are timed one by one (eager CPU ops are
synchronous); the mean and the median of those are reported.
"""
import os
import sys
import time

N_THREADS = 2
for i, a in enumerate(sys.argv):
    if a == "--threads" and i + 1 < len(sys.argv):
        N_THREADS = int(sys.argv[i + 1])
os.environ.setdefault("OMP_NUM_THREADS", str(N_THREADS))
os.environ.setdefault("MKL_NUM_THREADS", str(N_THREADS))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import default_common as C  # noqa: E402


class Mlp(nn.Module):
    """k -> 16 -> 1 with a tanh hidden layer."""

    def __init__(self, k, init):
        super().__init__()
        self.hidden = nn.Linear(k, C.HIDDEN)
        self.out = nn.Linear(C.HIDDEN, 1)
        with torch.no_grad():  # the shared init; nn.Linear stores weight as [out, in]
            self.hidden.weight.copy_(torch.from_numpy(init["W1"].T.copy()))
            self.hidden.bias.copy_(torch.from_numpy(init["b1"]))
            self.out.weight.copy_(torch.from_numpy(init["W2"].T.copy()))
            self.out.bias.copy_(torch.from_numpy(init["b2"]))

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x))).squeeze(1)


class DefaultModel(nn.Module):
    def __init__(self, model, init):
        super().__init__()
        self.order = model.order
        self.mlps = nn.ModuleDict({v: Mlp(len(model.parents[v]), init["mlp"][v])
                                   for v in model.children})
        self.root_mean = nn.ParameterDict({v: nn.Parameter(torch.tensor(init["root_mean"][v]))
                                           for v in model.roots})
        self.log_scale = nn.Parameter(torch.from_numpy(init["log_scale"].copy()))

    def forward(self, x, parents):
        """x: [n, V] in topological order; parents: {v: [n, k]}. Returns the mean NLL."""
        n = x.shape[0]
        means = [self.mlps[v](parents[v]) if v in self.mlps else self.root_mean[v].expand(n)
                 for v in self.order]
        r = x - torch.stack(means, dim=1)
        ls = self.log_scale
        per = ls + 0.5 * r * r * torch.exp(-2.0 * ls) + C.HALF_LOG_2PI
        return per.sum(dim=1).mean()

    def to_numpy(self):
        t = lambda a: a.detach().numpy().copy()
        return {"log_scale": t(self.log_scale),
                "root_mean": {v: t(p) for v, p in self.root_mean.items()},
                "mlp": {v: {"W1": t(m.hidden.weight).T, "b1": t(m.hidden.bias),
                            "W2": t(m.out.weight).T, "b2": t(m.out.bias)}
                        for v, m in self.mlps.items()}}


def main():
    args = C.parse_args("PyTorch peer of causalgrad's default model on scm5")
    torch.set_num_threads(args.threads)
    path, header, Xnp = C.load_csv(args.csv, args.n)
    model = C.Model(header)
    x = torch.from_numpy(np.ascontiguousarray(Xnp[:, [model.col[v] for v in model.order]]))
    parents = {v: torch.from_numpy(np.ascontiguousarray(
        Xnp[:, [model.col[q] for q in model.parents[v]]])) for v in model.children}
    net = DefaultModel(model, C.init_arrays(model))
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    threads_note = (f"torch.set_num_threads({args.threads}) -> get_num_threads()={torch.get_num_threads()}, "
                    f"interop={torch.get_num_interop_threads()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")

    def step():
        opt.zero_grad(set_to_none=True)
        loss = net(x, parents)
        loss.backward()
        opt.step()
        return loss

    t0 = time.perf_counter()
    step()
    warm = time.perf_counter() - t0
    times = []
    for _ in range(args.steps - 1):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        final = float(net(x, parents))
    C.summarize("torch", f"torch {torch.__version__}", "eager", path, Xnp.shape[0], model,
                net.to_numpy(), warm, times, final, threads_note, args.steps)


if __name__ == "__main__":
    main()
