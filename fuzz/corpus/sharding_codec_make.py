"""Write the seed corpus of fuzz/fuzz_sharding_codec.c into
fuzz/corpus/sharding_codec/: one valid shard per chain of the harness (the
first byte picks the chain), made with the hand-written shard encoder of
tests/python/test_zarr_nested_shards.py, plus a truncated and a corrupt
copy of each.

    /usr/bin/python3 fuzz/corpus/sharding_codec_make.py
"""
import sys
from pathlib import Path

import numcodecs
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "python"))
from test_zarr_nested_shards import MISSING, encode_shard  # noqa: E402


def raw(a):
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def main():
    out = HERE / "sharding_codec"
    out.mkdir(exist_ok=True)
    seeds = {}
    # 0: u1 [8] as shards [4] of shards [2], fill 7
    a = np.array([1, 2, 7, 7, 7, 7, 9, 9], dtype="u1")
    seeds["nested_u1"] = bytes([0]) + encode_shard(
        a, (4,), lambda b: encode_shard(b, (2,), raw, 7, False), 7, False)
    # 1: <i2 [4,6], chunks [2,3], plain index at the start, fill 0
    b = np.arange(24, dtype="<i2").reshape(4, 6)
    b[2:, 3:] = 0
    parts, index, off = [], [], 4 * 16
    for i in range(2):
        for j in range(2):
            sub = b[2 * i:2 * i + 2, 3 * j:3 * j + 3]
            if not sub.any():
                index += [MISSING, MISSING]
                continue
            parts.append(raw(np.ascontiguousarray(sub)))
            index += [off, len(parts[-1])]
            off += len(parts[-1])
    seeds["start_i2"] = bytes([1]) + np.array(index, "<u8").tobytes() + b"".join(parts)
    # 2: <u2 [4,4], chunks [2,2] through gzip, fill 7
    gz = numcodecs.GZip(level=1)
    c = np.arange(16, dtype="<u2").reshape(4, 4)
    c[0:2, 2:4] = 7
    seeds["gzip_u2"] = bytes([2]) + encode_shard(
        c, (2, 2), lambda s: gz.encode(raw(s)), 7, False)
    for name, s in list(seeds.items()):
        seeds[name + "_cut"] = s[:len(s) // 2]
        bad = bytearray(s)
        bad[-10] ^= 0x40
        bad[0] |= 0x80  # the harness fixes the checksum: the entry is parsed
        seeds[name + "_entry"] = bytes(bad)
    for name, s in seeds.items():
        (out / name).write_bytes(s)


if __name__ == "__main__":
    main()
