#!/usr/bin/python3
"""Dump what `bnlab audit` needs from a PyTorch model's normalization layers.

In your own code (needs only torch and numpy):

    import bnlab_dump
    bnlab_dump.dump(model, batches, "dump.npz")   # batches: an iterable of input tensors

From the command line, an example network (no downloads):

    /usr/bin/python3 scripts/bnlab_dump.py --example resnet18 out.npz

The .npz, in state_dict naming, for each layer L (its module path, e.g. layer1.0.bn1):
    L.input               its input activations (N, C, H, W), every batch concatenated along N
                          (float32, or float16 with --float16 / dtype=np.float16)
    L.running_mean, L.running_var, L.weight, L.bias   (C,) as PyTorch names them (absent when
                          the layer has none: affine=False, track_running_stats=False)
    L.num_batches_tracked as PyTorch stores it
    L.eps, L.momentum     0-d float64 arrays
    L.kind                0-d float64 code of the layer's type: 0 BatchNorm2d, 1 GroupNorm,
                          2 LayerNorm, 3 InstanceNorm2d (absent: BatchNorm2d)
    L.num_groups          0-d, GroupNorm only
A file written by np.savez with the same names is read the same way (README "audit").
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

# The kind codes of `L.kind` (bnlab's src/bnlab/audit/audit_dump.hpp reads the same table).
KIND_CODES = {nn.BatchNorm2d: 0, nn.GroupNorm: 1, nn.LayerNorm: 2, nn.InstanceNorm2d: 3}


def _kind(module):
    for cls, code in KIND_CODES.items():
        if type(module) is cls or isinstance(module, cls):
            return code
    return None


def dump(model, batches, path, dtype=np.float32):
    """Run `batches` through `model` in eval mode and write every norm layer's input and state to `path`."""
    layers = [(name, module) for name, module in model.named_modules() if _kind(module) is not None]
    inputs = {name: [] for name, _ in layers}
    hooks = [module.register_forward_hook(lambda m, args, out, name=name: inputs[name].append(args[0].detach().cpu()))
             for name, module in layers]
    was_training = model.training
    model.eval()  # eval mode: the running statistics are not updated by the dump itself
    try:
        with torch.no_grad():
            for batch in batches:
                model(batch)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    arrays = {}
    for name, module in layers:
        if not inputs[name]:
            continue  # a layer the batches never reached
        x = torch.cat(inputs[name]).numpy()
        if np.dtype(dtype) == np.float16 and np.abs(x).max() > np.finfo(np.float16).max:
            # float16 would turn these into Inf (which bnlab refuses): keep this layer in float32.
            print(f"bnlab_dump: {name}: values beyond float16's range, stored as float32", file=sys.stderr)
            dtype_here = np.float32
        else:
            dtype_here = dtype
        arrays[name + ".input"] = x.astype(dtype_here)
        for key in ("running_mean", "running_var", "weight", "bias", "num_batches_tracked"):
            value = getattr(module, key, None)
            if isinstance(value, torch.Tensor):
                arrays[name + "." + key] = value.detach().cpu().numpy()
        arrays[name + ".eps"] = np.array(float(module.eps))
        momentum = getattr(module, "momentum", None)
        if momentum is not None:
            arrays[name + ".momentum"] = np.array(float(momentum))
        kind = _kind(module)
        if kind != 0:
            arrays[name + ".kind"] = np.array(float(kind))
        if kind == 1:
            arrays[name + ".num_groups"] = np.array(float(module.num_groups))
    np.savez(path, **arrays)
    return arrays


def _example_resnet18(seed, batch, size, train_steps, batches):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from dump_resnet18 import make_model  # the network of scripts/dump_resnet18.py (torchvision's if installed)
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    model, _origin = make_model(10)
    # The recipe of dump_resnet18.py: SGD steps on random images and labels; after a few steps the running
    # statistics (momentum 0.1) still hold part of their initialization, which audit should see.
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    for _ in range(train_steps):  # a few SGD steps on random data: weights and running statistics move
        images, labels = torch.randn(batch, 3, size, size), torch.randint(0, 10, (batch,))
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
    return model, [torch.randn(batch, 3, size, size) for _ in range(batches)]


def main():
    parser = argparse.ArgumentParser(description="Dump a network's normalization layers for `bnlab audit`.")
    parser.add_argument("--example", choices=["resnet18"], required=True, help="the example network to dump")
    parser.add_argument("output", help="the .npz to write")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--float16", action="store_true", help="store the inputs as float16")
    args = parser.parse_args()
    model, batches = _example_resnet18(args.seed, args.batch, args.size, args.train_steps, args.batches)
    arrays = dump(model, batches, args.output, np.float16 if args.float16 else np.float32)
    layers = sum(1 for key in arrays if key.endswith(".input"))
    print(f"bnlab_dump: wrote {args.output} ({layers} layers)", file=sys.stderr)


if __name__ == "__main__":
    main()
