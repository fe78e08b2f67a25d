#!/usr/bin/python3
"""Seconds per training step of bnlab train's CNN in PyTorch (CPU), for scripts/bench-train.

Usage: /usr/bin/python3 scripts/bench_train_torch.py THREADS STEPS
The network, batch (64 images of 28x28) and optimizer are those of
`bnlab train` with Method 3 (BatchNorm2d): conv3x3 1->16, BN, ReLU,
conv3x3/2 16->32, BN, ReLU, conv3x3/2 32->32, BN, ReLU, global average pool,
linear 32->10, cross-entropy, SGD(lr 0.02, momentum 0.9). Prints one JSON
object: {"threads", "steps", "seconds_per_step": median, "min_seconds_per_step"}.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn

threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
times = []
for step in range(steps + 5):  # 5 warm-up steps
    start = time.perf_counter()
    opt.zero_grad()
    nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
    if step >= 5:
        times.append(time.perf_counter() - start)
print(json.dumps({"threads": threads, "steps": steps, "seconds_per_step": statistics.median(times),
                  "min_seconds_per_step": min(times)}))
