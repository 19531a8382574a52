"""The mixed-type model of benches/fit.rs `mixed_step` in torch eager (CPU, float32).

c: 3-level categorical root (learned logits for levels 1, 2 against level 0),
t: binary <- c (one-hot, reference level dropped: 2 columns),
m: continuous <- t, data m = 1 + t + Exp(1): by default (as causalgrad's default)
   a three-component Gaussian mixture on the residual, means centred so the
   residual has mean zero (weights softmax(0, l1, l2), learned means and
   log-scales); --noise gaussian for a Gaussian with a learned log-scale,
y: binary <- c, t, m.
Every variable with parents: MLP k -> 16 -> 1 (tanh). Loss: mean over rows of the
sum of the four negative log-likelihoods (softmax, Bernoulli-logit, mixture or Gaussian).
Adam lr 1e-2, eps 1e-8, full batch. Prints ms/step (mean and median of steps
2..S, one at a time) and a JSON line.
"""
import argparse, json, os, time

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=100_000)
ap.add_argument("--steps", type=int, default=300)
ap.add_argument("--threads", type=int, default=0, help="0: torch's default")
ap.add_argument("--noise", choices=["mixture", "gaussian"], default="mixture", help="m's noise")
args = ap.parse_args()
if args.threads:
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(args.threads))
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

if args.threads:
    torch.set_num_threads(args.threads)
torch.manual_seed(0)


def data(n, seed=1):
    rng = np.random.default_rng(seed)
    sig = lambda v: 1 / (1 + np.exp(-v))
    c = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    c1, c2 = (c == 1).astype(float), (c == 2).astype(float)
    t = (rng.random(n) < sig(-0.5 + c1 - 0.5 * c2)).astype(float)
    m = 1 + t + rng.exponential(1.0, n)
    y = (rng.random(n) < sig(-1 + 0.5 * c1 - 0.3 * c2 + 0.8 * t + 0.4 * (m - 2))).astype(float)
    return c, t, m, y


def mlp(k):
    return nn.Sequential(nn.Linear(k, 16), nn.Tanh(), nn.Linear(16, 1))


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_logits = nn.Parameter(torch.zeros(2))
        self.t = mlp(2)
        self.m = mlp(1)
        self.m_log_scale = nn.Parameter(torch.zeros(()))
        # The mixture's start, as causalgrad's: means -0.8, 0, 0.8, scales 0.7.
        self.m_logits = nn.Parameter(torch.zeros(2))
        self.m_means = nn.Parameter(torch.tensor([-0.8, 0.0, 0.8]))
        self.m_log_scales = nn.Parameter(torch.full((3,), float(np.log(0.7))))
        self.y = mlp(4)

    def forward(self, c_code, c_hot, t, m, y):
        n = t.shape[0]
        logits = torch.cat([torch.zeros(1), self.c_logits]).expand(n, 3)
        nll_c = F.cross_entropy(logits, c_code, reduction="none")
        nll_t = F.binary_cross_entropy_with_logits(self.t(c_hot).squeeze(1), t, reduction="none")
        mean = self.m(t[:, None]).squeeze(1)
        if args.noise == "gaussian":
            z = (m - mean) * torch.exp(-self.m_log_scale)
            nll_m = self.m_log_scale + 0.5 * z * z + 0.5 * np.log(2 * np.pi)
        else:
            log_w = torch.log_softmax(torch.cat([torch.zeros(1), self.m_logits]), 0)
            centred = self.m_means - (log_w.exp() * self.m_means).sum()
            z = ((m - mean)[:, None] - centred) * torch.exp(-self.m_log_scales)
            log_p = log_w - self.m_log_scales - 0.5 * z * z - 0.5 * np.log(2 * np.pi)
            nll_m = -torch.logsumexp(log_p, 1)
        eta = self.y(torch.stack([c_hot[:, 0], c_hot[:, 1], t, m], 1)).squeeze(1)
        nll_y = F.binary_cross_entropy_with_logits(eta, y, reduction="none")
        return (nll_c + nll_t + nll_m + nll_y).mean()


c, t, m, y = data(args.n)
c_code = torch.tensor(c, dtype=torch.long)
c_hot = F.one_hot(c_code, 3)[:, 1:].float()
t, m, y = (torch.tensor(v, dtype=torch.float32) for v in (t, m, y))
model = Mixed()
opt = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8)


def step():
    opt.zero_grad(set_to_none=True)
    loss = model(c_code, c_hot, t, m, y)
    loss.backward()
    opt.step()
    return loss.item()


t0 = time.perf_counter()
step()
warm = time.perf_counter() - t0
times = []
for _ in range(args.steps - 1):
    t0 = time.perf_counter()
    loss = step()
    times.append(time.perf_counter() - t0)
ms = 1e3 * np.array(times)
print(f"torch {torch.__version__} eager, n={args.n}, threads={torch.get_num_threads()}: "
      f"{ms.mean():.3f} ms/step (median {np.median(ms):.3f}), final loss {loss:.5f}")
print(json.dumps({"framework": "torch", "version": torch.__version__, "mode": "eager",
                  "model": "mixed", "noise": args.noise, "n": args.n, "steps": args.steps, "warmup_s": warm,
                  "ms_per_step": float(ms.mean()), "ms_per_step_median": float(np.median(ms)),
                  "final_loss": loss, "threads": torch.get_num_threads()}))
