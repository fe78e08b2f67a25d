#!/usr/bin/python3
"""Writes the .npy and .npz fixtures of tests/unit/test_npy.cpp and tests/unit/test_npz.cpp
with numpy's own writers (numpy.save, numpy.savez, numpy.savez_compressed), and
two torch.save files (Debian's python3-torch) for the "wrong file" messages.

Usage (numpy is needed: use Debian's /usr/bin/python3, not a bare venv):
  /usr/bin/python3 scripts/make_npy_fixtures.py            # (re)write tests/fixtures/*.npy, *.npz, *.pt
  /usr/bin/python3 scripts/make_npy_fixtures.py --check WRITTEN.npy REFERENCE.npy
      # numpy.load both; exit 1 unless WRITTEN is float32 with REFERENCE's
      # shape and bit-identical values (to check a file bnlab wrote).

Every valid 4-d fixture holds the same logical tensor x of shape
(N, C, H, W) = (2, 3, 4, 5) with x.flat[i] = (i - 60) / 4 in C order (exact in
float32), so the C++ test can compare them to each other and to that formula.
The files were written by numpy 1.24 (header version 1.0), whose bytes
bnlab's writer reproduces exactly (test "write_npy is byte-identical ...").
"""
import os
import sys

import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def reference_nchw(dtype=np.float32):
    return ((np.arange(2 * 3 * 4 * 5) - 60) / 4).reshape(2, 3, 4, 5).astype(dtype)


def write_all():
    x = reference_nchw()
    fixtures = {
        # valid inputs
        "nchw_f4.npy": x,                                   # '<f4', C order
        "nchw_f8.npy": x.astype("<f8"),                     # '<f8', converted on read
        "nchw_f4_fortran.npy": np.asfortranarray(x),        # fortran_order: True
        "nhwc_f4.npy": np.ascontiguousarray(x.transpose(0, 2, 3, 1)),  # (N, H, W, C)
        "vector_f4.npy": np.array([1.5, -2.0, 0.0, 3.25, 1e-3, -7.0, 42.0], np.float32),  # (7,)
        "scalar_f4.npy": np.array(2.5, np.float32),         # shape ()
        # numpy's header quirks: 20 spare spaces that here cross a 64-byte
        # boundary, and a full 64 spaces of padding when already aligned
        "rank16_f4.npy": np.full((1,) * 16, 0.5, np.float32),
        "aligned_header_f4.npy": np.arange(100, dtype=np.float32).reshape((1, 10, 10) + (1,) * 11),
        # bad inputs
        "rank3_f4.npy": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
        "zero_dim_f4.npy": np.zeros((2, 0, 4, 5), np.float32),
        "int64.npy": np.arange(6, dtype="<i8").reshape(1, 1, 2, 3),
        "big_endian_f4.npy": np.arange(6, dtype=">f4").reshape(1, 1, 2, 3),
    }
    nan = np.ones((1, 3, 4, 2), np.float32)
    nan[0, 2, 3, 1] = np.nan
    fixtures["nan_f4.npy"] = nan
    inf = np.ones((1, 3, 4, 2), np.float32)
    inf[0, 1, 2, 0] = -np.inf
    fixtures["inf_f4.npy"] = inf
    fixtures.update(float16_fixtures(x))

    os.makedirs(FIXTURES, exist_ok=True)
    for name, array in fixtures.items():
        np.save(os.path.join(FIXTURES, name), array)
        print(f"{name}: {array.dtype.str} {array.shape} fortran={np.isfortran(array)}")
    write_archives(x)


def float16_fixtures(x):
    """float16 ('<f2') inputs, as mixed-precision runs dump them."""
    # Every float16 class: signed zeros, the smallest and largest subnormals,
    # the smallest normal, values needing all 11 significand bits, the largest
    # finite value; numpy's own float32 conversion is the expected result.
    bits = np.array([0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x3555,
                     0x2e66, 0x7bff, 0xfbff, 0x8001, 0x4248, 0x5a3f], np.uint16)
    edge = bits.view("<f2")
    # A float32 overflowing float16 becomes Inf, which bnlab must refuse with its index.
    overflow = np.ones((1, 2, 3, 2), np.float16)
    with np.errstate(over="ignore"):
        overflow[0, 1, 2, 1] = np.float16(70000.0)  # -> inf
    # bfloat16 saved raw: the upper 16 bits of each float32, stored as uint16.
    bf16_bits = (x.astype(np.float32).view(np.uint32) >> 16).astype("<u2")
    return {
        "nchw_f2.npy": x.astype("<f2"),            # the reference tensor: exact in float16
        "float16_edge_cases.npy": edge,             # (14,) '<f2'
        "float16_edge_cases_as_f4.npy": edge.astype(np.float32),
        "inf_f2.npy": overflow,
        "bfloat16_as_u2.npy": bf16_bits,
    }


def write_archives(x):
    """.npz archives (both numpy writers) and torch.save files."""
    rng = np.random.default_rng(12)
    # A small "network": two layers of different shapes and dtypes, plus arrays
    # that are not feature maps (compare skips them; they must not disturb it).
    stage2 = (rng.standard_normal((3, 4, 3, 3)) * np.array([0.5, 2.0, 8.0, 0.1]).reshape(1, 4, 1, 1) + 1.0)
    layers = {
        "conv1": x,                                   # the reference tensor, '<f4'
        "conv1_half": x.astype("<f2"),                # the same values as float16
        "labels": np.array([3, 1], "<i8"),            # 1-d, an unsupported dtype: never read
        "stage2": stage2.astype(np.float32),          # (3, 4, 3, 3)
        "fc_weight": np.ones((3, 3), np.float32),     # 2-d
    }
    np.savez(os.path.join(FIXTURES, "layers_savez.npz"), **layers)
    np.savez_compressed(os.path.join(FIXTURES, "layers_savez_compressed.npz"), **layers)
    np.savez(os.path.join(FIXTURES, "no_feature_maps.npz"), labels=np.array([3, 1], "<i8"),
             fc_weight=np.ones((3, 3), np.float32))
    # The same layers stored channels-last, (N, H, W, C): read with --layout NHWC.
    np.savez(os.path.join(FIXTURES, "layers_nhwc.npz"), conv1=np.ascontiguousarray(x.transpose(0, 2, 3, 1)),
             stage2=np.ascontiguousarray(layers["stage2"].transpose(0, 2, 3, 1)))
    nan = x.copy()
    nan[1, 2, 3, 4] = np.nan
    np.savez(os.path.join(FIXTURES, "layers_nan.npz"), conv1=x, bad=nan)
    # NHWC data read as NCHW: (N, H, W, C) = (2, 4, 4, 8) looks like C = H = 4, W = 8.
    np.save(os.path.join(FIXTURES, "channels_last_looking_f4.npy"),
            rng.standard_normal((2, 4, 4, 8)).astype(np.float32))
    for name in ["layers_savez.npz", "layers_savez_compressed.npz", "layers_nhwc.npz", "no_feature_maps.npz",
                 "layers_nan.npz"]:
        print(f"{name}: {sorted(np.load(os.path.join(FIXTURES, name)).files)}")
    try:
        import torch
    except ImportError:
        print("torch not installed: torch_save*.pt left as they are")
        return
    t = torch.from_numpy(x)
    torch.save(t, os.path.join(FIXTURES, "torch_save.pt"))  # zip: torch_save/data.pkl, ...
    torch.save(t, os.path.join(FIXTURES, "torch_save_legacy.pt"), _use_new_zipfile_serialization=False)
    print("torch_save.pt, torch_save_legacy.pt: torch", torch.__version__)


def check(written, reference):
    a, b = np.load(written), np.load(reference)
    ok = a.dtype == np.float32 and a.shape == b.shape and np.array_equal(
        a.view(np.uint32), b.astype(np.float32).view(np.uint32))
    print(f"{written}: {a.dtype.str} {a.shape} vs {reference}: {b.dtype.str} {b.shape}: "
          f"{'identical' if ok else 'DIFFERENT'}")
    return ok


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        sys.exit(0 if check(sys.argv[2], sys.argv[3]) else 1)
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    write_all()
