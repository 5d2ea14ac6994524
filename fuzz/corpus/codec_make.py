#!/usr/bin/python3
"""Write the seed corpus of fuzz/fuzz_codec.c into fuzz/corpus/codec/: real
chunks encoded by numcodecs 0.11 (the v3-only pieces, crc32c and a big-endian
transpose, composed here with numpy), each prefixed by the two bytes the
target reads (configuration index, chunk size index). The table mirrors
cfgs[] in fuzz_codec.c.

    /usr/bin/python3 fuzz/corpus/codec_make.py
"""
import os

import numcodecs
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "codec")
COUNTS = [0, 1, 7, 100, 1000, 4096]


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def enc(codecs, a):
    for c in codecs:
        a = c.encode(a)
    return bytes(numcodecs.compat.ensure_contiguous_ndarray(a).view("u1"))


def values(dtype, n, seed):
    rng = np.random.default_rng(seed)
    if dtype == "|O":
        return np.array([("x" * (i % 5)) + "é🙂"[i % 2] for i in range(n)], dtype=object)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (np.cumsum(rng.normal(0, 1, n)) + 50).astype(dt)
    return (np.arange(n) * 3 + rng.integers(0, 5, n)).astype(dt)


def v3_crc(a):
    z = numcodecs.Zstd(1).encode(a.astype("<i4").tobytes())
    z = bytes(z)
    return z + crc32c(z).to_bytes(4, "little")


def v3_transpose(a):
    t = np.ascontiguousarray(a.reshape(-1, 4).T).astype(">i2")
    return enc([numcodecs.GZip(1)], t)


TABLE = [
    ("<f4", lambda a: enc([numcodecs.Blosc("lz4", 5, 1)], a)),
    ("<i2", lambda a: enc([numcodecs.Blosc("zstd", 3, 2)], a)),
    ("|u1", lambda a: enc([numcodecs.Blosc("blosclz", 9, 0)], a)),
    ("<f8", lambda a: enc([numcodecs.Zstd(1)], a)),
    ("<i4", lambda a: enc([numcodecs.LZ4(1)], a)),
    ("<u2", lambda a: enc([numcodecs.GZip(5)], a)),
    ("<i8", lambda a: enc([numcodecs.Zlib(1)], a)),
    ("<f4", lambda a: enc([numcodecs.BZ2(1)], a)),
    ("<f4", lambda a: enc([numcodecs.LZMA()], a)),
    ("|u1", lambda a: enc([numcodecs.LZMA(format=2, preset=1)], a)),
    ("<i4", lambda a: enc([numcodecs.Shuffle(4), numcodecs.Zstd(1)], a)),
    ("<i4", lambda a: enc([numcodecs.Delta("<i4"), numcodecs.Zlib(1)], a)),
    ("<f8", lambda a: enc([numcodecs.FixedScaleOffset(10, 100, "<f8", "<i2")], a)),
    ("<i4", v3_crc),
    ("<i2", v3_transpose),
    ("|O", lambda a: enc([numcodecs.VLenUTF8(), numcodecs.Zstd(1)], a)),
    ("<f4", lambda a: enc([numcodecs.AsType("<f8", "<f4"), numcodecs.LZ4(1)], a)),
    (">f8", lambda a: a.astype(">f8").tobytes()),
    ("<i2", lambda a: enc([numcodecs.CRC32(), numcodecs.BZ2(1)], a)),
    ("<u4", lambda a: enc([numcodecs.Adler32(), numcodecs.GZip(1)], a)),
    ("<f4", lambda a: enc([numcodecs.BitRound(9), numcodecs.Blosc("lz4hc", 5, -1)], a)),
]


# Blosc chunks for the block walk of the sink decode
# (lsio_chain_decode_sink), with noisy low bytes so that some streams are
# stored raw: zstd in many blocks (blosc keeps a forced block size for
# zstd; it makes lz4 blocks 64 KiB or more, larger than these chunks), one
# with a leftover block; lz4hc in split streams, raw and packed side by
# side. Configuration 0's blosc decodes any inner compressor.
BLOCKS = [(0, 5, "zstd", 1024), (0, 4, "zstd", 768), (20, 5, "lz4hc", 0)]


def noisy(n, seed):
    a = values("<f4", n, seed)
    rng = np.random.default_rng(seed)
    b = a.view("u1").reshape(-1, 4)
    b[:, 0] = rng.integers(0, 256, len(b), dtype=np.uint8)
    return a


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, j, cname, bs in BLOCKS:
        c = numcodecs.Blosc(cname, 5, 1, blocksize=bs)
        data = enc([c], noisy(COUNTS[j], bs))
        with open(os.path.join(OUT, f"c{i:02d}_n{COUNTS[j]}_{cname}_blocks{bs}"), "wb") as fh:
            fh.write(bytes([i, j]) + data)
    for i, (dtype, f) in enumerate(TABLE):
        for j, n in enumerate(COUNTS):
            if n > 1000 and i % 3:
                continue  # keep the corpus small
            if i == 14:
                n -= n % 4
            if n == 0 and i in (0, 1, 2, 3, 4, 11, 15, 16):
                continue  # numcodecs cannot encode (or decode) these empty
            data = f(values(dtype, n, i * 10 + j))
            with open(os.path.join(OUT, f"c{i:02d}_n{n}"), "wb") as fh:
                fh.write(bytes([i, j]) + data)


if __name__ == "__main__":
    main()
