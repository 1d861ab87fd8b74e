#!/usr/bin/env python3
"""Safetensors interop between ChainRule (Swift) and the reference `safetensors` library.

    safetensors_interop.py write PATH   # Python writes the shared fixture for Swift to read
    safetensors_interop.py read PATH    # Python reads the fixture Swift wrote and checks it

The fixture is defined independently here and in Tests/ChainRuleTests/InteropTests.swift:
the same names, dtypes, shapes, bit patterns and metadata. Exits non-zero on any difference.
Needs `pip install safetensors numpy`.
"""

import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

F32_SPECIALS = [  # 0, -0, +inf, -inf, NaN with payload, smallest subnormal, max, 1/3
    0x00000000, 0x80000000, 0x7F800000, 0xFF800000,
    0x7FC01234, 0x00000001, 0x7F7FFFFF, 0x3EAAAAAB,
]
F64_SPECIALS = [  # same kinds of values in binary64
    0x0000000000000000, 0x8000000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
    0x7FF800000000BEEF, 0x0000000000000001, 0x7FEFFFFFFFFFFFFF, 0x3FD5555555555555,
]


def fixture():
    """The tensors both sides agree on."""
    return {
        # (i - 2.5) * 0.1 in binary64, rounded to binary32, row-major [2, 3].
        "float32/matrix": ((np.arange(6, dtype=np.float64) - 2.5) * 0.1)
        .astype(np.float32)
        .reshape(2, 3),
        "float32/specials": np.array(F32_SPECIALS, dtype=np.uint32).view(np.float32),
        "float32/empty": np.zeros((0, 4), dtype=np.float32),
        "float64/specials": np.array(F64_SPECIALS, dtype=np.uint64).view(np.float64).reshape(2, 4),
        "float64/scalar": np.array(2.5, dtype=np.float64),
    }


def metadata(writer):
    return {
        "architecture": '{"activation":"tanh","layers":[2,3,1]}',
        "note": 'ñandú ∂L/∂w "quoted"\n\ttab',
        "writer": writer,
    }


def bits(array):
    """The raw bit patterns, so NaN payloads and signed zeros compare exactly."""
    return array.view({4: np.uint32, 8: np.uint64}[array.dtype.itemsize])


def check(path, writer):
    expected = fixture()
    loaded = load_file(path)
    problems = []
    if sorted(loaded) != sorted(expected):
        problems.append(f"names {sorted(loaded)} != {sorted(expected)}")
    for name, want in expected.items():
        got = loaded.get(name)
        if got is None:
            continue
        if got.dtype != want.dtype or got.shape != want.shape:
            problems.append(f"{name}: {got.dtype}{list(got.shape)} != {want.dtype}{list(want.shape)}")
        elif not np.array_equal(bits(got), bits(want)):
            problems.append(f"{name}: bits {bits(got).tolist()} != {bits(want).tolist()}")
    with safe_open(path, framework="np") as file:
        got_metadata = file.metadata()
    if got_metadata != metadata(writer):
        problems.append(f"metadata {got_metadata!r} != {metadata(writer)!r}")
    return problems


def main(argv):
    if len(argv) != 3 or argv[1] not in ("read", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, path = argv[1], argv[2]
    if mode == "write":
        save_file(fixture(), path, metadata=metadata("python"))
        print(f"python wrote {path}")
        return 0
    problems = check(path, writer="swift")
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"python read {path}: {len(fixture())} tensors and metadata match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
