#!/usr/bin/python3
"""Writes the fixtures of `bnlab audit` (tests/cli/test_audit.cpp) to tests/fixtures/audit/.

Run with Debian's python3 (torch and numpy): /usr/bin/python3 scripts/make_audit_fixtures.py

defects.npz   a dump made by scripts/bnlab_dump.py's dump() of a small network whose
              layers each have one known defect (or none):
                healthy  BatchNorm2d(4), running statistics = the dumped samples' population -> []
                stale    the same, running_mean shifted by 3 batch-std in channels 1 and 3
                                                                    -> [stale_running_stats]
                tiny     2x2 maps at batch 4 (16 values per statistic) -> [few_values_per_statistic]
                dead     channel 2's input constant (batch and running variance 0) -> [dead_channels]
                gamma    weight (gamma) 0 in channel 0              -> [zero_gamma_channels]
                gn       GroupNorm(2, 4)                            -> [not_batch_norm]
expected.npz  what torch computes in float64 on the same samples:
                L.gap          relative L2 difference between eval-mode and train-mode outputs
                L.recal_mean, L.recal_var  population statistics (unbiased variance)
              checked here first: loaded into the model, the recalibrated statistics make
              its eval-mode output match a train-mode pass over the same samples, once the
              unbiased variance is scaled back to the biased one train mode uses.
bad_*.npz     dumps that audit names in one line (tests/cli/test_audit.cpp says which).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bnlab_dump  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "audit")
NAMES = ["healthy", "stale", "tiny", "dead", "gamma", "gn"]


class Layers(nn.Module):
    """One norm layer per name, each fed its own input (a tuple of tensors)."""

    def __init__(self):
        super().__init__()
        for name in NAMES[:-1]:
            setattr(self, name, nn.BatchNorm2d(4))
        self.gn = nn.GroupNorm(2, 4)

    def forward(self, inputs):
        return [getattr(self, name)(x) for name, x in zip(NAMES, inputs)]


def population(x):
    x = x.double()
    return x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(21)
    shapes = {"healthy": (8, 4, 8, 8), "stale": (8, 4, 8, 8), "tiny": (4, 4, 2, 2),
              "dead": (8, 4, 8, 8), "gamma": (8, 4, 8, 8), "gn": (8, 4, 8, 8)}
    inputs = {name: torch.randn(*shape) * 2.0 + 0.5 for name, shape in shapes.items()}
    inputs["dead"][:, 2] = 0.75  # a channel that never varies (a dead ReLU before the BN, say)
    model = Layers()
    with torch.no_grad():
        for name in NAMES[:-1]:
            bn = getattr(model, name)
            mean, var = population(inputs[name])
            bn.running_mean.copy_(mean.float())
            bn.running_var.copy_(var.float())
            bn.weight.copy_(torch.linspace(0.5, 1.5, 4))
            bn.bias.copy_(torch.linspace(-0.2, 0.2, 4))
            bn.num_batches_tracked.fill_(100)
        x = inputs["stale"].double()
        batch_std = (x.var(dim=(0, 2, 3), unbiased=False) + model.stale.eps).sqrt()
        model.stale.running_mean[[1, 3]] += (3.0 * batch_std[[1, 3]]).float()
        model.gamma.weight[0] = 0.0
    bnlab_dump.dump(model, [tuple(inputs[name] for name in NAMES)], os.path.join(OUT, "defects.npz"))

    expected = {}
    for name in NAMES[:-1]:
        bn = getattr(model, name)
        x = inputs[name].double()
        w, b = bn.weight.double(), bn.bias.double()
        y_train = F.batch_norm(x, None, None, w, b, training=True, eps=bn.eps)
        y_eval = F.batch_norm(x, bn.running_mean.double(), bn.running_var.double(), w, b, training=False, eps=bn.eps)
        expected[name + ".gap"] = np.array(((y_eval - y_train).norm() / y_train.norm()).item())
        mean, var = population(inputs[name])
        expected[name + ".recal_mean"], expected[name + ".recal_var"] = mean.numpy(), var.numpy()
        # The recalibrated statistics loaded back into the model: eval mode == train mode on these samples,
        # up to PyTorch's unbiased running variance (train mode divides by the biased one).
        n = x.numel() // x.shape[1]
        recal = nn.BatchNorm2d(4).double()
        recal.load_state_dict({"weight": w, "bias": b, "running_mean": mean, "running_var": var * (n - 1) / n,
                               "num_batches_tracked": torch.tensor(1)})
        recal.eval()
        assert torch.allclose(recal(x), y_train, rtol=1e-9, atol=1e-9), name
    np.savez(os.path.join(OUT, "expected.npz"), **expected)

    rng = np.random.default_rng(21)
    def layer(name, shape, channels=None, **extra):
        c = shape[1] if channels is None else channels
        arrays = {name + ".input": rng.normal(size=shape).astype(np.float32),
                  name + ".running_mean": np.zeros(c, np.float32), name + ".running_var": np.ones(c, np.float32),
                  name + ".weight": np.ones(c, np.float32), name + ".bias": np.zeros(c, np.float32),
                  name + ".eps": np.array(1e-5), name + ".momentum": np.array(0.1)}
        arrays.update(extra)
        return arrays
    np.savez(os.path.join(OUT, "bad_wrong_length.npz"), **layer("ok", (4, 4, 4, 4)), **layer("layer2.bn", (4, 4, 4, 4), 3))
    np.savez(os.path.join(OUT, "bad_no_input.npz"), **{"bn.running_mean": np.zeros(4, np.float32)})
    np.savez(os.path.join(OUT, "batch_one.npz"), **layer("bn", (1, 4, 8, 8)))
    np.savez(os.path.join(OUT, "nhwc.npz"), **layer("bn", (2, 4, 4, 16)))
    np.savez(os.path.join(OUT, "batch_only.npz"), **{"bn.input": rng.normal(size=(8, 4, 8, 8)).astype(np.float32),
                                                       "bn.eps": np.array(1e-5)})
    print("make_audit_fixtures: wrote", sorted(os.listdir(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
