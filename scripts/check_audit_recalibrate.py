#!/usr/bin/python3
"""End-to-end check of `bnlab audit --recalibrate` on the example ResNet-18 (needs torch; not run by the suite).

  /usr/bin/python3 scripts/check_audit_recalibrate.py [build/bnlab]

Dumps the example network (scripts/bnlab_dump.py), recalibrates with bnlab, loads the .npz back with
load_state_dict(strict=False) and checks that the stem's BatchNorm2d (whose input no other BN changes)
then gives in eval mode what train mode gives on the same samples, once PyTorch's unbiased running
variance is scaled back to the biased one train mode divides by. Exit 0 when it does.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bnlab_dump  # noqa: E402


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bnlab"
    model, batches = bnlab_dump._example_resnet18(seed=0, batch=8, size=32, train_steps=20, batches=2)
    with tempfile.TemporaryDirectory() as tmp:
        dump, recal = os.path.join(tmp, "dump.npz"), os.path.join(tmp, "recal.npz")
        bnlab_dump.dump(model, batches, dump)
        subprocess.run([binary, "audit", dump, "--quiet", "--format", "json", "--recalibrate", recal],
                       check=True, stdout=subprocess.DEVNULL)
        arrays = {k: torch.from_numpy(v) for k, v in np.load(recal).items()}
    _, unexpected = model.load_state_dict(arrays, strict=False)
    assert not unexpected, f"keys the model does not have: {unexpected}"
    with torch.no_grad():
        stem = model.conv1(torch.cat(batches))
        n = stem.numel() // stem.shape[1]
        bn = model.bn1.eval()
        bn.running_var.mul_((n - 1) / n)
        y_eval = bn(stem)
        y_train = torch.nn.functional.batch_norm(stem, None, None, bn.weight, bn.bias, training=True, eps=bn.eps)
    gap = (y_eval - y_train).abs().max().item()
    print(f"check_audit_recalibrate: {len(arrays)} arrays loaded; bn1 max |eval - train| = {gap:.3g}")
    sys.exit(0 if gap < 1e-4 else 1)


if __name__ == "__main__":
    main()
