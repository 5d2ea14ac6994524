"""Generated conformance: arrays written by Debian's zarr-python 2.13 over
random shapes, chunk shapes, dtypes (every int, float incl. f2, complex,
bool, both byte orders), orders C/F, fill values (NaN included), dimension
separators, compressors and filters, with some chunks missing, read by
``lsio get`` whole and through random selections (integers, negative
indices and steps) and compared with zarr-python's values (a selection's
reference is numpy's indexing of zarr-python's whole array).

Seeded and reproducible: case i uses numpy's generator seeded with
(SEED, i); LSIO_GEN_SEED and LSIO_GEN_CASES override the defaults. A failing
case prints its parameters, so it can be rebuilt alone.
"""
import os
import shutil

import numpy as np
import pytest

SEED = int(os.environ.get("LSIO_GEN_SEED", "20261125"))
CASES = int(os.environ.get("LSIO_GEN_CASES", "50"))
SELECTIONS = 4

INTS = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]
FLOATS = ["f2", "f4", "f8"]
COMPLEX = ["c8", "c16"]


# Every data type in both byte orders; case i takes ALL_DTYPES[i % n], so a
# run of CASES >= n covers them all.
ALL_DTYPES = [np.dtype(o + b) for b in INTS + FLOATS + COMPLEX + ["b1"]
              for o in (("|",) if b in ("i1", "u1", "b1") else ("<", ">"))]


def make_compressor(rng, k):
    """Compressor variant k of 12 (4 blosc, zstd, lz4, zlib, gzip, bz2,
    lzma, none twice)."""
    import numcodecs as nc
    if k <= 3:
        cname = ["lz4", "lz4hc", "zstd", "zlib", "blosclz"][rng.integers(0, 5)]
        shuffle = [nc.Blosc.NOSHUFFLE, nc.Blosc.SHUFFLE, nc.Blosc.BITSHUFFLE][rng.integers(0, 3)]
        return nc.Blosc(cname=cname, clevel=int(rng.integers(1, 9)), shuffle=shuffle,
                        blocksize=int(rng.choice([0, 0, 256])))
    return [nc.Zstd(level=int(rng.integers(1, 10))), nc.LZ4(), nc.Zlib(level=int(rng.integers(1, 9))),
            nc.GZip(level=int(rng.integers(1, 9))), nc.BZ2(level=int(rng.integers(1, 9))),
            nc.LZMA(preset=int(rng.integers(1, 6))), None, None][k - 4]


def make_filters(rng, dt):
    import numcodecs as nc
    out = []
    if dt.kind in "iu" and rng.random() < 0.35:
        out.append(nc.Delta(dtype=dt.str))
    if dt.kind == "f" and dt.itemsize >= 4:
        r = rng.random()
        if r < 0.3 and dt.byteorder != ">":  # numcodecs' bitround: native order only
            out.append(nc.BitRound(keepbits=int(rng.integers(2, 12))))
        elif r < 0.6:
            out.append(nc.FixedScaleOffset(offset=float(rng.integers(-5, 5)), scale=100,
                                           dtype=dt.str, astype=rng.choice(["<i4", ">i4", "<i8"])))
        elif r < 0.85 and dt.itemsize == 8:
            out.append(nc.AsType(encode_dtype="<f4", decode_dtype=dt.str))
    if rng.random() < 0.25:
        out.append(nc.Shuffle(elementsize=dt.itemsize))
    return out or None


def make_data(rng, dt, shape):
    n = int(np.prod(shape))
    if dt.kind == "b":
        v = rng.random(n) < 0.5
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = max(info.min, -(1 << 40)), min(info.max, 1 << 40)
        if rng.random() < 0.3:  # the extremes now and then
            lo, hi = info.min, info.max
        v = rng.integers(lo, hi, size=n, endpoint=True, dtype=dt.newbyteorder("="))
    elif dt.kind == "f":
        v = rng.uniform(-100, 100, n)
        v[rng.random(n) < 0.05] = np.nan
    else:
        v = rng.uniform(-100, 100, n) + 1j * rng.uniform(-100, 100, n)
        v[rng.random(n) < 0.05] = complex(np.nan, 0)
    return np.asarray(v).astype(dt).reshape(shape)


def make_fill(rng, dt):
    r = rng.random()
    if dt.kind == "b":
        return bool(r < 0.5)
    if dt.kind == "f":
        return float("nan") if r < 0.4 else (0.0 if r < 0.7 else float(rng.integers(-50, 50)) + 0.25)
    if dt.kind == "c":
        return 0 if r < 0.5 else complex(1.5, -2)
    info = np.iinfo(dt)
    return 0 if r < 0.5 else int(rng.integers(max(info.min, -100), min(info.max, 100)))


def case(i):
    """The parameters of case i (deterministic)."""
    rng = np.random.default_rng([SEED, i])
    dt = ALL_DTYPES[i % len(ALL_DTYPES)]
    ndim = int(rng.integers(1, 5))
    shape = tuple(int(rng.integers(1, [40, 16, 10, 6][ndim - 1] + 1)) for _ in range(ndim))
    chunks = tuple(int(rng.integers(1, s + 3)) for s in shape)
    return dict(rng=rng, dtype=dt, shape=shape, chunks=chunks,
                order=str(rng.choice(["C", "F"])), sep=str(rng.choice([".", "/"])),
                compressor=make_compressor(rng, (i * 7) % 12), filters=make_filters(rng, dt),
                fill=make_fill(rng, dt), write_empty=bool(rng.random() < 0.7))


def write_case(c, path):
    import zarr
    rng = c["rng"]
    store = zarr.DirectoryStore(str(path), dimension_separator=c["sep"])
    a = zarr.create(shape=c["shape"], chunks=c["chunks"], dtype=c["dtype"], order=c["order"],
                    compressor=c["compressor"], filters=c["filters"], fill_value=c["fill"],
                    store=store, write_empty_chunks=c["write_empty"])
    data = make_data(rng, c["dtype"], c["shape"])
    if rng.random() < 0.3:  # some chunks equal to the fill value
        sl = tuple(slice(0, min(ch, s)) for ch, s in zip(c["chunks"], c["shape"]))
        data[sl] = c["fill"]
    a[...] = data
    # Remove about a fifth of the chunk files: they read as the fill value.
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    for p in files:
        if rng.random() < 0.2:
            p.unlink()
    return zarr.open_array(str(path), mode="r")[...]


def random_selection(rng, shape):
    """A numpy-style selection string and the matching Python index."""
    terms, index = [], []
    for s in shape:
        r = rng.random()
        if r < 0.2:
            i = int(rng.integers(-s, s))
            terms.append(str(i))
            index.append(i)
            continue
        if r < 0.3:
            terms.append(":")
            index.append(slice(None))
            continue
        step = int(rng.choice([1, 1, 2, 3, -1, -2, -5]))
        start = int(rng.integers(-s - 2, s + 2)) if rng.random() < 0.7 else None
        stop = int(rng.integers(-s - 2, s + 2)) if rng.random() < 0.7 else None
        terms.append(f"{'' if start is None else start}:{'' if stop is None else stop}:{step}")
        index.append(slice(start, stop, step))
    if len(terms) > 1 and rng.random() < 0.2:  # fewer terms than dimensions
        k = int(rng.integers(1, len(terms)))
        terms, index = terms[:k], index[:k]
    return ",".join(terms), tuple(index)


def assert_same(got, ref, what):
    assert got.dtype == ref.dtype.newbyteorder("="), f"{what}: dtype {got.dtype} vs {ref.dtype}"
    assert got.shape == ref.shape, f"{what}: shape {got.shape} vs {ref.shape}"
    eq = np.array_equal(got, ref, equal_nan=ref.dtype.kind in "fc")
    assert eq, f"{what}: values differ\nlsio:\n{got}\nzarr-python:\n{ref}"


def describe(c):
    return {k: v for k, v in c.items() if k != "rng"}


# NaN through fixedscaleoffset's integer cast warns; the bytes it stores
# are what both readers decode.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("i", range(CASES))
def test_generated(i, lsio_zarr, work_dir):
    c = case(i)
    what = f"case {i} (seed {SEED}): {describe(c)}"
    path = work_dir / "a.zarr"
    ref = write_case(c, path)
    out = work_dir / "out.npy"
    r = lsio_zarr("get", path, "-o", out)
    assert r.returncode == 0, f"{what}: lsio get: {r.stderr}"
    assert_same(np.load(out), ref, what)
    for k in range(SELECTIONS):
        text, index = random_selection(c["rng"], c["shape"])
        r = lsio_zarr("get", path, "--select", text, "-o", out)
        assert r.returncode == 0, f"{what}: --select {text!r}: {r.stderr}"
        assert_same(np.load(out), ref[index], f"{what} --select {text!r}")
    shutil.rmtree(path)
