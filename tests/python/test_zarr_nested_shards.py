"""Zarr v3 nested sharding (sharding_indexed inside sharding_indexed).

The arrays are written here by hand, following the v3 sharding spec:
numcodecs' Zstd encodes the innermost chunks (bytes little endian + zstd),
each shard (outer, and the nested shards inside it) is the encoded chunks
followed or preceded by an index of (offset, nbytes) uint64 little endian
pairs in C order, all-ones for a chunk not stored, then the CRC-32C of
those bytes (computed below from the Castagnoli polynomial, not by LSIO).
Chunks equal to the fill value everywhere are left out (inner chunks,
whole nested shards), and one outer shard is not written at all. Edge
shards are padded with the fill value, as zarr-python writes them.

References: the numpy array written, for `lsio get` whole and through
selections; and zarrita.js (tests/node/read_zarrita.mjs) as an independent
reader of the same store. zarrita.js 0.7.5 (tests/node) reads only one
level of sharding: its inner codec registry has no "sharding_indexed", so
on a nested array it fails with "UnknownCodecError: Unknown codec:
sharding_indexed" (and it ignores index_location, reading the index from
the end). The test records that (if a later zarrita reads nested shards,
its values must equal numpy's) and keeps numpy as the reference; a
one-level sharded copy of the same data (index at the end) is read by both
zarrita and LSIO, so the writer below is checked by an independent reader
there.
"""
import itertools
import json
import subprocess

import numcodecs
import numpy as np
import pytest

_TABLE = []


def crc32c(data: bytes) -> int:
    if not _TABLE:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _TABLE.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


MISSING = 2**64 - 1
BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
INDEX = [BYTES, {"name": "crc32c"}]


def encode_shard(block, chunk, encode, fill, at_start):
    """One shard of `block` (a multiple of `chunk`): bytes, or None when every
    chunk is all fill (nothing to store)."""
    grid = [s // c for s, c in zip(block.shape, chunk)]
    parts, entries = [], []
    for ic in itertools.product(*[range(g) for g in grid]):
        sub = block[tuple(slice(i * c, (i + 1) * c) for i, c in zip(ic, chunk))]
        if np.all(sub == fill):
            entries.append(None)
            continue
        parts.append(encode(np.ascontiguousarray(sub)))
        entries.append(len(parts[-1]))
    if all(e is None for e in entries):
        return None
    isize = len(entries) * 16 + 4
    off = isize if at_start else 0
    index, k = [], 0
    for e in entries:
        if e is None:
            index += [MISSING, MISSING]
        else:
            index += [off, e]
            off += e
    raw = np.array(index, dtype="<u8").tobytes()
    idx = raw + crc32c(raw).to_bytes(4, "little")
    body = b"".join(parts)
    return idx + body if at_start else body + idx


def leaf_codecs():
    return [BYTES, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}]


def codecs_json(levels):
    """The codec list of a chunk whose chain is sharding(levels[0]) around
    sharding(levels[1]) ... around bytes + zstd."""
    if not levels:
        return leaf_codecs()
    chunk, at_start = levels[0]
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(chunk), "codecs": codecs_json(levels[1:]), "index_codecs": INDEX,
        "index_location": "start" if at_start else "end"}}]


def encoder(levels, fill):
    """Encode one chunk with the chain codecs_json(levels) describes."""
    if not levels:
        zstd = numcodecs.Zstd(level=1)
        return lambda a: zstd.encode(a.astype(a.dtype.newbyteorder("<")).tobytes())
    chunk, at_start = levels[0]
    inner = encoder(levels[1:], fill)
    return lambda a: encode_shard(a, chunk, inner, fill, at_start)


def write_array(path, data, fill, shard, levels, skip_shards=()):
    """levels: [(chunk_shape, index_at_start), ...], the outer shard's first."""
    names = {"i4": "int32", "f8": "float64", "u2": "uint16"}
    meta = {"zarr_format": 3, "node_type": "array", "shape": list(data.shape),
            "data_type": names[data.dtype.str[1:]],
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shard)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill.item(), "codecs": codecs_json(levels), "attributes": {}}
    path.mkdir(parents=True)
    (path / "zarr.json").write_text(json.dumps(meta))
    enc = encoder(levels, fill)
    grid = [-(-s // c) for s, c in zip(data.shape, shard)]
    for sc in itertools.product(*[range(g) for g in grid]):
        if sc in skip_shards:
            continue
        block = np.full(shard, fill, dtype=data.dtype)
        src = data[tuple(slice(i * c, (i + 1) * c) for i, c in zip(sc, shard))]
        block[tuple(slice(0, n) for n in src.shape)] = src
        if np.all(block == fill):
            continue
        key = path / "c" / "/".join(map(str, sc))
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_bytes(enc(block))
    return meta


def make_data(shape, dtype, fill, seed):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    a[3:6, :] = fill            # whole inner chunks of fill
    a[:, 9:12] = fill
    a[12:18, 0:4] = fill        # a whole nested shard of fill (in shard (1,0))
    return a


CASES = {
    # name: shape, dtype, fill, outer shard, levels (nested chunk, index at start)...
    "i4_two_levels": ((21, 14), "<i4", -3, (12, 8), [((6, 4), True), ((3, 2), False)]),
    "f8_three_levels": ((20, 16), "<f8", 1.5, (8, 16), [((4, 8), False), ((2, 4), True),
                                                         ((1, 2), False)]),
}

SELECTS = ["2:19:3,1:13", "5,:", "-1:0:-2,::5", "12:18,0:4", ":,13", "0:21,-3:"]


def build(work_dir, name):
    shape, dt, fill, shard, levels = CASES[name]
    fillv = np.array(fill, dtype=dt)
    data = make_data(shape, dt, fillv, 7)
    path = work_dir / f"{name}.zarr"
    write_array(path, data, fillv, shard, levels, skip_shards={(0, 1)} if name.startswith("i4") else ())
    if name.startswith("i4"):  # shard (0, 1) not written: the fill value
        data[0:12, 8:14] = fillv
    return path, data


def lsio_get(lsio_zarr, path, out, select=None):
    args = ["get", path, "-o", out] + (["--select", select] if select else [])
    r = lsio_zarr(*args)
    assert r.returncode == 0, f"lsio get {path} {select}: {r.stderr}"
    return np.load(out)


def np_select(a, sel):
    idx = []
    for part in sel.split(","):
        if ":" in part:
            idx.append(slice(*[int(x) if x else None for x in part.split(":")]))
        else:
            idx.append(int(part))
    return a[tuple(idx)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_nested_shards_equal_numpy(name, lsio_zarr, work_dir):
    path, data = build(work_dir, name)
    # the store really has what the test says: a nested shard left out of an
    # outer index, and (i4) a whole shard file missing
    got = lsio_get(lsio_zarr, path, work_dir / "all.npy")
    assert got.dtype == data.dtype.newbyteorder("=")
    assert np.array_equal(got, data)
    for i, sel in enumerate(SELECTS):
        got = lsio_get(lsio_zarr, path, work_dir / f"s{i}.npy", sel)
        assert np.array_equal(got, np_select(data, sel)), sel


def test_nested_shards_info(lsio_zarr, work_dir):
    path, data = build(work_dir, "i4_two_levels")
    r = lsio_zarr("info", "--json", path)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["shape"] == list(data.shape)
    # the reader's decode unit is the nested shard; the innermost chunk
    # shape is in the codecs
    assert info["shards"] == [12, 8] and info["chunks"] == [6, 4], info
    inner = info["codecs"][0]["configuration"]["codecs"][0]
    assert inner["name"] == "sharding_indexed"
    assert inner["configuration"]["chunk_shape"] == [3, 2]
    r = lsio_zarr("info", path)
    assert r.returncode == 0 and "sharding_indexed" in r.stdout, r.stdout + r.stderr


def test_corrupt_nested_index_names_the_codec(lsio_zarr, work_dir):
    path, _ = build(work_dir, "i4_two_levels")
    key = path / "c" / "0" / "0"
    blob = bytearray(key.read_bytes())
    # the outer index is at the start: its first entry points at the first
    # nested shard, whose index is at its end; flip a bit in that index
    off, n = int.from_bytes(blob[0:8], "little"), int.from_bytes(blob[8:16], "little")
    assert off != MISSING
    blob[off + n - 20] ^= 0x10
    key.write_bytes(bytes(blob))
    r = lsio_zarr("get", path, "-o", work_dir / "x.npy")
    assert r.returncode != 0
    assert "sharding_indexed" in r.stderr and "c/0/0" in r.stderr, r.stderr


def zarrita_read(node_dir, root, names):
    r = subprocess.run(["node", str(node_dir / "read_zarrita.mjs"), str(root), *names],
                       capture_output=True, text=True, timeout=120)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def test_zarrita_reference(lsio_zarr, node_dir, work_dir):
    names = []
    datas = {}
    for name in sorted(CASES):
        path, data = build(work_dir, name)
        names.append(path.name)
        datas[path.name] = data
    # one level of sharding, same data and writer: zarrita and LSIO agree
    shape, dt, fill, shard, levels = CASES["i4_two_levels"]
    fillv = np.array(fill, dtype=dt)
    one = work_dir / "one_level.zarr"
    write_array(one, datas["i4_two_levels.zarr"], fillv, shard, [(levels[0][0], False)])
    names.append(one.name)
    datas[one.name] = datas["i4_two_levels.zarr"]
    recs = {r["path"]: r for r in zarrita_read(node_dir, work_dir, names)}
    assert set(recs) == set(names), recs
    rec = recs[one.name]
    assert "error" not in rec, rec
    ref = np.array(rec["data"], dtype=dt).reshape(rec["shape"])
    assert np.array_equal(ref, datas[one.name])
    assert np.array_equal(lsio_get(lsio_zarr, one, work_dir / "one.npy"), ref)
    for n in names[:-1]:
        rec = recs[n]
        if "error" in rec:  # zarrita.js 0.7.5: no nested sharding (see the docstring)
            assert "Unknown codec: sharding_indexed" in rec["error"], rec
            continue
        ref = np.array([float(x) for x in rec["data"]], dtype=datas[n].dtype).reshape(rec["shape"])
        assert np.array_equal(ref, datas[n]), n
