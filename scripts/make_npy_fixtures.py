#!/usr/bin/python3
"""Writes the .npy fixtures of tests/test_npy.cpp with numpy's own writer.

Usage (numpy is needed: use Debian's /usr/bin/python3, not a bare venv):
  /usr/bin/python3 scripts/make_npy_fixtures.py            # (re)write tests/fixtures/*.npy
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

    os.makedirs(FIXTURES, exist_ok=True)
    for name, array in fixtures.items():
        np.save(os.path.join(FIXTURES, name), array)
        print(f"{name}: {array.dtype.str} {array.shape} fortran={np.isfortran(array)}")


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
