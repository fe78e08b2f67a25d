#!/usr/bin/python3
"""Writes tests/fixtures/torch/: inputs and PyTorch's outputs for `bnlab normalize`.

Run once by hand (needs Debian's python3-numpy and python3-torch, i.e.
/usr/bin/python3, not a pyenv python):
    /usr/bin/python3 scripts/make_torch_fixtures.py
The C++ test tests/parity/test_torch_parity.cpp reads these files, so CI checks
bnlab against PyTorch without needing PyTorch.

Each case directory holds the inputs (x, gamma, beta, dy, running_mean,
running_var) and PyTorch's results (y, mean, var, dx, dgamma, dbeta,
running_mean_out, running_var_out), all float32. PyTorch runs in float64 on
the float32 inputs, so its results are the exact answer rounded once.

Methods 1 and 2 are not PyTorch layers; they are batch_norm on a reshape:
  method 1 (statistics per location over N, C): x (N,C,H,W) -> (N*C, H*W),
           BatchNorm1d with H*W features, gamma/beta (H, W)
  method 2 (statistics per activation over N):  x (N,C,H,W) -> (N, C*H*W),
           BatchNorm1d with C*H*W features, gamma/beta (C, H, W)
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "torch")
N, C, H, W = 3, 4, 5, 6
EPS, MOMENTUM = 1e-5, 0.1


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def stat_shape(method):
    return {"1": (H, W), "2": (C, H, W), "3": (C,), "ln": (N,), "in": (N, C), "gn:2": (N, 2)}[method]


def param_shape(method):
    return {"1": (H, W), "2": (C, H, W), "3": (C,), "ln": (C, H, W), "in": (C,), "gn:2": (C,)}[method]


def forward(method, x, gamma, beta, mode, rm, rv):
    """y, batch mean, batch var (biased), and updated running stats (or None)."""
    train = mode == "train"
    if method in ("1", "2", "3"):
        if method == "1":
            to = lambda t: t.reshape(N * C, H * W)
            back = lambda t: t.reshape(N, C, H, W)
            dims = (0,)
        elif method == "2":
            to = lambda t: t.reshape(N, C * H * W)
            back = lambda t: t.reshape(N, C, H, W)
            dims = (0,)
        else:
            to = lambda t: t
            back = lambda t: t
            dims = (0, 2, 3)
        xr = to(x)
        rm2, rv2 = rm.reshape(-1).clone(), rv.reshape(-1).clone()
        y = back(F.batch_norm(xr, rm2, rv2, gamma.reshape(-1), beta.reshape(-1), training=train,
                              momentum=MOMENTUM, eps=EPS))
        mean = xr.mean(dim=dims).reshape(stat_shape(method))
        var = xr.var(dim=dims, unbiased=False).reshape(stat_shape(method))
        return y, mean, var, (rm2.reshape(stat_shape(method)), rv2.reshape(stat_shape(method)))
    if method == "ln":
        y = F.layer_norm(x, (C, H, W), gamma, beta, eps=EPS)
        dims = (1, 2, 3)
        return y, x.mean(dim=dims), x.var(dim=dims, unbiased=False), None
    if method == "in":
        y = F.instance_norm(x, weight=gamma, bias=beta, eps=EPS)
        return y, x.mean(dim=(2, 3)), x.var(dim=(2, 3), unbiased=False), None
    y = F.group_norm(x, 2, gamma, beta, eps=EPS)
    xg = x.reshape(N, 2, -1)
    return y, xg.mean(dim=2), xg.var(dim=2, unbiased=False), None


def main():
    rng = np.random.default_rng(20261124)
    cases = [(m, "train") for m in ("1", "2", "3", "ln", "in", "gn:2")] + [(m, "eval") for m in ("1", "2", "3")]
    for method, mode in cases:
        name = f"{method.replace(':', '')}_{mode}"
        out = os.path.join(ROOT, name)
        os.makedirs(out, exist_ok=True)
        scales = np.array([0.05, 1.0, 3.0, 20.0], dtype=np.float64).reshape(1, C, 1, 1)
        x = f32(rng.normal(size=(N, C, H, W)) * scales + rng.normal(size=(1, C, 1, 1)) * 5)
        gamma = f32(rng.uniform(0.5, 1.5, size=param_shape(method)))
        beta = f32(rng.normal(size=param_shape(method)))
        dy = f32(rng.normal(size=(N, C, H, W)))
        arrays = {"x": x, "gamma": gamma, "beta": beta, "dy": dy}
        rm = rv = None
        if method in ("1", "2", "3"):
            rm = f32(rng.normal(size=stat_shape(method)))
            rv = f32(rng.uniform(0.5, 2.0, size=stat_shape(method)))
            arrays.update(running_mean=rm, running_var=rv)
        t = {k: torch.tensor(v, dtype=torch.float64) for k, v in arrays.items()}
        for k in ("x", "gamma", "beta"):
            t[k].requires_grad_(True)
        y, mean, var, running = forward(method, t["x"], t["gamma"], t["beta"], mode,
                                        t.get("running_mean"), t.get("running_var"))
        (y * t["dy"]).sum().backward()
        arrays.update(y=y.detach().numpy(), dx=t["x"].grad.numpy(), dgamma=t["gamma"].grad.numpy(),
                      dbeta=t["beta"].grad.numpy())
        if mode == "train":
            arrays.update(mean=mean.detach().numpy(), var=var.detach().numpy())
            if running is not None:
                arrays.update(running_mean_out=running[0].numpy(), running_var_out=running[1].numpy())
        for k, v in arrays.items():
            np.save(os.path.join(out, k + ".npy"), f32(v))
        print(f"wrote {out}: {sorted(arrays)}", file=sys.stderr)


if __name__ == "__main__":
    main()
