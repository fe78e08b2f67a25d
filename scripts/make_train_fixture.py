#!/usr/bin/python3
"""Writes tests/fixtures/train/: two SGD steps of bnlab train's CNN in PyTorch.

Run once by hand (needs Debian's python3-numpy and python3-torch, i.e.
/usr/bin/python3, not a pyenv python):
    /usr/bin/python3 scripts/make_train_fixture.py
tests/parity/test_train_torch.cpp loads the initial weights into bnlab's network,
runs the same two steps and compares every number, so CI checks the whole
network (convolutions, norm layers through bnlab's engine, ReLU, pooling,
linear layer, loss, momentum SGD, running statistics) against PyTorch
without needing PyTorch.

The network is the one of `bnlab train` (src/bnlab/train/model.hpp) on small
12x12 images: conv3x3 1->16 pad 1, norm, ReLU, conv3x3/2 16->32, norm, ReLU,
conv3x3/2 32->32, norm, ReLU, global average pool, linear 32->10, softmax
cross-entropy, SGD(lr 0.1, momentum 0.9). The norm layer is written out from
its definition for methods 1, 2 and 3 (statistics over (N, C), (N) and
(N, H, W); gamma, beta of shape (H, W), (C, H, W), (C); biased variance in the
forward, unbiased in the running variance, momentum 0.1). PyTorch computes in
float64 from the float32 initial values: its results are the exact answer,
rounded once to float32 when saved.

Files per method directory m1, m2, m3 (all float32 .npy):
  x (6, 1, 12, 12), labels (6)
  initial parameters: conv{1,2,3}_weight, norm{1,2,3}_gamma, norm{1,2,3}_beta, linear_weight, linear_bias
  step 1: logits, loss (1), a gradient d_<name> for every parameter,
          norm{1,2,3}_running_mean and _running_var after the step
  step 2 (same batch): step2_loss (1), step2_<name> = every parameter after it
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "train")
N, H, W = 6, 12, 12
CHANNELS, STRIDES = (16, 32, 32), (1, 2, 2)
EPS, NORM_MOMENTUM, LR, MOMENTUM = 1e-5, 0.1, 0.1, 0.9
REDUCE = {"1": (0, 1), "2": (0,), "3": (0, 2, 3)}


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def param_shape(method, c, h, w):
    return {"1": (h, w), "2": (c, h, w), "3": (c,)}[method]


def broadcast(p, method):
    """gamma/beta in its natural shape -> a shape that broadcasts against (N, C, H, W)."""
    return {"1": lambda t: t.reshape(1, 1, *t.shape), "2": lambda t: t.unsqueeze(0),
            "3": lambda t: t.reshape(1, -1, 1, 1)}[method](p)


def norm(x, method, gamma, beta, running):
    dims = REDUCE[method]
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, unbiased=False, keepdim=True)
    count = x.numel() // mean.numel()
    with torch.no_grad():
        running[0].mul_(1 - NORM_MOMENTUM).add_(NORM_MOMENTUM * mean.reshape(running[0].shape))
        running[1].mul_(1 - NORM_MOMENTUM).add_(NORM_MOMENTUM * (var * count / (count - 1)).reshape(running[1].shape))
    return (x - mean) / torch.sqrt(var + EPS) * broadcast(gamma, method) + broadcast(beta, method)


def make(method, seed):
    rng = np.random.default_rng(seed)
    params = {}
    c_in, h, w = 1, H, W
    for i, (c, s) in enumerate(zip(CHANNELS, STRIDES), start=1):
        bound = 1 / np.sqrt(c_in * 9)
        params[f"conv{i}_weight"] = f32(rng.uniform(-bound, bound, (c, c_in, 3, 3)))
        h, w = (h + 2 - 3) // s + 1, (w + 2 - 3) // s + 1
        shape = param_shape(method, c, h, w)
        params[f"norm{i}_gamma"] = f32(rng.uniform(0.5, 1.5, shape))
        params[f"norm{i}_beta"] = f32(rng.uniform(-0.2, 0.2, shape))
        c_in = c
    bound = 1 / np.sqrt(c_in)
    params["linear_weight"] = f32(rng.uniform(-bound, bound, (10, c_in)))
    params["linear_bias"] = f32(rng.uniform(-bound, bound, (10,)))
    x = f32(rng.normal(0.0, 1.0, (N, 1, H, W)))
    labels = np.array([0, 3, 9, 9, 4, 7])
    return params, x, labels


def run(method, out_dir, seed):
    params, x, labels = make(method, seed)
    os.makedirs(out_dir, exist_ok=True)
    save = lambda name, a: np.save(os.path.join(out_dir, name + ".npy"), f32(a))
    save("x", x)
    save("labels", labels)
    for name, value in params.items():
        save(name, value)

    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    # Running mean 0 and variance 1 at the start; for methods 1, 2, 3 the
    # statistic shape is the natural parameter shape.
    running = [(torch.zeros(t[f"norm{i}_gamma"].shape, dtype=torch.float64),
                torch.ones(t[f"norm{i}_gamma"].shape, dtype=torch.float64)) for i in range(1, 4)]
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(labels)
    opt = torch.optim.SGD(list(t.values()), lr=LR, momentum=MOMENTUM)

    def forward():
        a = xt
        for i, s in enumerate(STRIDES, start=1):
            a = F.conv2d(a, t[f"conv{i}_weight"], stride=s, padding=1)
            a = F.relu(norm(a, method, t[f"norm{i}_gamma"], t[f"norm{i}_beta"], running[i - 1]))
        return F.linear(a.mean(dim=(2, 3)), t["linear_weight"], t["linear_bias"])

    logits = forward()
    loss = F.cross_entropy(logits, yt)
    opt.zero_grad()
    loss.backward()
    save("logits", logits.detach().numpy())
    save("loss", [loss.item()])
    for name, value in t.items():
        save("d_" + name, value.grad.numpy())
    for i in range(1, 4):
        save(f"norm{i}_running_mean", running[i - 1][0].numpy())
        save(f"norm{i}_running_var", running[i - 1][1].numpy())
    opt.step()

    loss2 = F.cross_entropy(forward(), yt)
    opt.zero_grad()
    loss2.backward()
    opt.step()
    save("step2_loss", [loss2.item()])
    for name, value in t.items():
        save("step2_" + name, value.detach().numpy())


if __name__ == "__main__":
    for seed, method in enumerate(("1", "2", "3")):
        run(method, os.path.join(ROOT, "m" + method), seed)
    print("wrote", os.path.normpath(ROOT))
