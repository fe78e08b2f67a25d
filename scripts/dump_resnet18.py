#!/usr/bin/python3
"""Dumps the activations of every convolution of a ResNet-18 to one .npz, the
way an engineer studying a real network would, for `bnlab compare --input`.

Usage (needs Debian's python3-torch; use /usr/bin/python3, not a bare venv):
  /usr/bin/python3 scripts/dump_resnet18.py [--output resnet18_acts.npz]
      [--batch 8] [--size 64] [--train-steps 20] [--dtype float16|float32]
      [--include-downsample] [--seed 0]

What it does, with no downloads:
  * builds a ResNet-18: torchvision's (weights=None) if python3-torchvision is
    installed, otherwise the definition below (He et al. 2016, the 18-layer
    column of Table 1: a 7x7 stride-2 conv, a 3x3 max pool, four stages of two
    basic blocks with 64, 128, 256, 512 channels; every conv followed by
    BatchNorm2d);
  * random initialization (PyTorch's defaults, seeded), then --train-steps SGD
    steps on random images with random labels out of 10 classes, so that the
    weights are no longer exactly at their initialization;
  * one forward pass in train mode (batch statistics, as during training) on a
    fresh random batch, recording the output of every conv: the tensor its
    BatchNorm2d normalizes, (N, C, H, W). The 17 convs of the main path by
    default ("conv1", "layer1.0.conv1", ..., "layer4.1.conv2"); with
    --include-downsample also the three 1x1 shortcut convs;
  * numpy.savez_compressed of them all, keyed by module name, as float16 by
    default (what a mixed-precision run produces; bnlab widens it exactly).

Size: with the defaults (batch 8, 64x64 inputs) the largest array is conv1's
(8, 64, 32, 32) and the archive holds about 1.5 million values (2.8 MB as
compressed float16), enough to show every property and small enough that
`bnlab compare` measures all 17 layers in about 20 seconds on 2 cores.
"""
import argparse
import sys

import numpy as np
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    """Two 3x3 convs with BatchNorm2d and a residual connection."""

    def __init__(self, in_channels, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride, bias=False),
                                            nn.BatchNorm2d(channels))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision's resnet18 layout and module names, without torchvision."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, in_channels = [], 64
        for channels, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            stages.append(nn.Sequential(BasicBlock(in_channels, channels, stride), BasicBlock(channels, channels, 1)))
            in_channels = channels
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def make_model(num_classes):
    try:
        import torchvision
        return torchvision.models.resnet18(weights=None, num_classes=num_classes), "torchvision"
    except ImportError:
        return ResNet18(num_classes), "own definition (python3-torchvision not installed)"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="resnet18_acts.npz")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=64, help="input height and width")
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    parser.add_argument("--include-downsample", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    num_classes = 10
    model, origin = make_model(num_classes)
    model.train()

    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for step in range(args.train_steps):
        images = torch.randn(args.batch, 3, args.size, args.size)
        labels = torch.randint(0, num_classes, (args.batch,))
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    activations = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d) and (args.include_downsample or "downsample" not in name):
            hooks.append(module.register_forward_hook(
                lambda _module, _inputs, output, name=name: activations.__setitem__(name, output.detach().clone())))
    with torch.no_grad():
        model(torch.randn(args.batch, 3, args.size, args.size))
    for hook in hooks:
        hook.remove()

    arrays = {name: t.numpy().astype(args.dtype) for name, t in activations.items()}  # (N, C, H, W) each
    np.savez_compressed(args.output, **arrays)
    total = sum(a.size for a in arrays.values())
    print(f"ResNet-18 ({origin}), {args.train_steps} SGD steps on random data, seed {args.seed}: "
          f"{len(arrays)} conv outputs, {total} values as {args.dtype} -> {args.output}", file=sys.stderr)
    for name, a in arrays.items():
        print(f"  {name:16s} {a.shape}", file=sys.stderr)


if __name__ == "__main__":
    main()
