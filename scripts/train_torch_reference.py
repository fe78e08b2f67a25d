#!/usr/bin/python3
"""The recipe of `bnlab train` in PyTorch, for a reader who doubts bnlab's trainer.

Usage:
    /usr/bin/python3 scripts/train_torch_reference.py [--config configs/train/default.json]
        [--methods none,3] [--seeds 0,1,2] [--threads 2] [--epochs E] [--lr LR]

It reads the same config file as `bnlab train` (its data, train_images, epochs,
batch_size, lr, lr_schedule, warmup_steps, momentum, eps, norm_momentum,
test_images, precise_bn_images) and trains the same network with PyTorch's own
layers: conv3x3 1->16 pad 1, norm, ReLU; conv3x3/2 16->32, norm, ReLU;
conv3x3/2 32->32, norm, ReLU; global average pool; linear 32->10; softmax
cross-entropy; SGD with momentum, the learning rate set per step by the same
schedule. The norm is torch.nn.BatchNorm2d for method 3, and for `none` a
per-channel scale and bias (what the convolution's bias would add). Images are
scaled as bnlab scales them: (p / 255 - 0.2860) / 0.3530. The data order, the
initial weights and the float rounding differ from bnlab's, so the numbers agree
within the seed spread, not digit for digit.

For each method and seed it measures the test accuracy in eval mode with the
running (EMA) statistics, and with population statistics recomputed over K
training images by torch.optim.swa_utils.update_bn (the PreciseBN recipe) for
each K in precise_bn_images. Prints one JSON object (schema
"bnlab.train-torch-reference/1") with the per-seed numbers and their mean and
standard deviation. Needs Debian's python3-torch and python3-numpy.
"""
import argparse
import gzip
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, prefix, count):
    images = read_idx(os.path.join(directory, prefix + "-images-idx3-ubyte.gz"))[:count]
    labels = read_idx(os.path.join(directory, prefix + "-labels-idx1-ubyte.gz"))[:count]
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - PIXEL_MEAN) / PIXEL_STD
    return x.unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


class ChannelAffine(nn.Module):
    """The `none` baseline: y = gamma * x + beta per channel, no statistics."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


def network(method, eps, norm_momentum):
    def norm(c):
        if method == "3":
            return nn.BatchNorm2d(c, eps=eps, momentum=norm_momentum)
        if method == "none":
            return ChannelAffine(c)
        sys.exit(f"train_torch_reference.py: method {method!r} is not implemented here (valid: 3, none)")
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, 1, 1, bias=False), norm(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, 2, 1, bias=False), norm(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, 2, 1, bias=False), norm(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def learning_rate(config, step, total):
    """bnlab's schedule (src/bnlab/train/schedule.hpp): linear warm-up, then constant or cosine to 0."""
    lr, warmup = config["lr"], config.get("warmup_steps", 0)
    if step < warmup:
        return lr * (step + 1) / warmup
    if config.get("lr_schedule", "cosine") == "constant":
        return lr
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * lr * (1.0 + math.cos(math.pi * progress))


def accuracy(net, x, y, batch=500):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def run(config, method, seed, train, test):
    torch.manual_seed(seed)
    net = network(method, config["eps"], config["norm_momentum"])
    opt = torch.optim.SGD(net.parameters(), lr=config["lr"], momentum=config["momentum"])
    x, y = train
    batch = config["batch_size"]
    per_epoch = len(x) // batch
    total = per_epoch * config["epochs"]
    generator = torch.Generator().manual_seed(seed)
    step = 0
    start = time.perf_counter()
    for _ in range(config["epochs"]):
        order = torch.randperm(len(x), generator=generator)
        net.train()
        for b in range(per_epoch):
            for group in opt.param_groups:
                group["lr"] = learning_rate(config, step, total)
            index = order[b * batch:(b + 1) * batch]
            loss = F.cross_entropy(net(x[index]), y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    seconds = time.perf_counter() - start
    result = {"seed": seed, "steps": step, "seconds": seconds, "eval_accuracy": accuracy(net, *test)}
    if method == "3":
        # PreciseBN: swa_utils.update_bn resets the running statistics and sets
        # momentum None (a cumulative average over the batches it is shown).
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed + 1))
        population = {}
        for k in config.get("precise_bn_images", []):
            loader = [x[order[i:i + batch]] for i in range(0, k, batch)]
            copy = network(method, config["eps"], config["norm_momentum"])
            copy.load_state_dict(net.state_dict())
            torch.optim.swa_utils.update_bn(loader, copy)
            population[str(k)] = accuracy(copy, *test)
        result["population_accuracy"] = population
    return result


def spread(values):
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=os.path.join(ROOT, "configs", "train", "default.json"))
    parser.add_argument("--methods", default="none,3")
    parser.add_argument("--seeds", default=None, help="comma list; default: the config's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    args = parser.parse_args()
    with open(args.config) as f:
        config = json.load(f)
    data = config.get("data", "/usr/share/datasets/fashion-mnist")
    if not os.path.isabs(data):
        data = os.path.join(os.path.dirname(os.path.abspath(args.config)), data)
    if args.epochs:
        config["epochs"] = args.epochs
    if args.lr:
        config["lr"] = args.lr
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else config.get("seeds", [0, 1, 2])
    torch.set_num_threads(args.threads)
    train = load(data, "train", config.get("train_images", 60000))
    test = load(data, "t10k", config.get("test_images", 10000))
    out = {"schema": "bnlab.train-torch-reference/1", "torch": torch.__version__, "threads": args.threads,
           "config": {k: config.get(k) for k in ("train_images", "epochs", "batch_size", "lr", "lr_schedule",
                                                 "warmup_steps", "momentum", "test_images", "precise_bn_images")},
           "methods": {}}
    for method in args.methods.split(","):
        runs = []
        for seed in seeds:
            runs.append(run(config, method, seed, train, test))
            print(f"[torch reference] method {method}, seed {seed}: eval accuracy {runs[-1]['eval_accuracy']:.4f}"
                  f" ({runs[-1]['seconds']:.1f} s)", file=sys.stderr)
        block = {"eval_accuracy": spread([r["eval_accuracy"] for r in runs]), "seeds": runs}
        if method == "3":
            block["population_accuracy"] = {
                k: spread([r["population_accuracy"][k] for r in runs]) for k in runs[0]["population_accuracy"]}
        out["methods"][method] = block
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
