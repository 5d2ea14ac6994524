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

A nested level may name a bytes-to-bytes codec after its sharding_indexed
(gzip, zstd, crc32c: numcodecs' GZip and Zstd, the CRC-32C below), which
then encodes each whole nested shard; those arrays are compared with numpy
the same way.

Shards whose index entries overlap the index bytes (hand-made from the
same writer, one level or nested, with uncompressed inner chunks so that
reading index bytes as data would go unnoticed) must be refused, naming
the shard and the index entry.
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


# bytes-to-bytes codecs after a nested shard: (zarr.json entry, encoder)
AFTER = {
    "gzip": ({"name": "gzip", "configuration": {"level": 5}}, numcodecs.GZip(level=5).encode),
    "zstd": ({"name": "zstd", "configuration": {"level": 3, "checksum": False}},
             numcodecs.Zstd(level=3).encode),
    "crc32c": ({"name": "crc32c"}, lambda b: b + crc32c(b).to_bytes(4, "little")),
}


def codecs_json(levels):
    """The codec list of a chunk whose chain is sharding(levels[0]) around
    sharding(levels[1]) ... around bytes + zstd. A level (chunk, at_start,
    after) is followed by the codec AFTER[after] (nested levels only)."""
    if not levels:
        return leaf_codecs()
    chunk, at_start = levels[0][:2]
    after = [AFTER[levels[0][2]][0]] if len(levels[0]) > 2 else []
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(chunk), "codecs": codecs_json(levels[1:]), "index_codecs": INDEX,
        "index_location": "start" if at_start else "end"}}] + after


def encoder(levels, fill):
    """Encode one chunk with the chain codecs_json(levels) describes."""
    if not levels:
        zstd = numcodecs.Zstd(level=1)
        return lambda a: zstd.encode(a.astype(a.dtype.newbyteorder("<")).tobytes())
    chunk, at_start = levels[0][:2]
    inner = encoder(levels[1:], fill)
    if len(levels[0]) > 2:
        after = AFTER[levels[0][2]][1]
        return lambda a: bytes(after(encode_shard(a, chunk, inner, fill, at_start)))
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


# a bytes-to-bytes codec after a nested shard (the outer shard, which the
# reader reads by ranges, cannot have one)
AFTER_CASES = {
    "i4_gzip_after_nested": ((21, 14), "<i4", -3, (12, 8), [((6, 4), True),
                                                           ((3, 2), False, "gzip")]),
    "u2_three_levels_after": ((21, 14), "<u2", 7, (12, 14), [((6, 14), False),
                                                             ((3, 7), True, "crc32c"),
                                                             ((1, 7), False, "zstd")]),
}


def build(work_dir, name):
    shape, dt, fill, shard, levels = {**CASES, **AFTER_CASES}[name]
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


def assert_reads_like_numpy(lsio_zarr, path, data, work_dir):
    """`lsio get` of the whole array and of every SELECTS equals numpy's."""
    got = lsio_get(lsio_zarr, path, work_dir / "all.npy")
    assert got.dtype == data.dtype.newbyteorder("=")
    assert np.array_equal(got, data)
    for i, sel in enumerate(SELECTS):
        got = lsio_get(lsio_zarr, path, work_dir / f"s{i}.npy", sel)
        assert np.array_equal(got, np_select(data, sel)), sel


@pytest.mark.parametrize("name", sorted(CASES))
def test_nested_shards_equal_numpy(name, lsio_zarr, work_dir):
    path, data = build(work_dir, name)
    # the store really has what the test says: a nested shard left out of an
    # outer index, and (i4) a whole shard file missing
    assert_reads_like_numpy(lsio_zarr, path, data, work_dir)


@pytest.mark.parametrize("name", sorted(AFTER_CASES))
def test_codec_after_nested_shard_equal_numpy(name, lsio_zarr, work_dir):
    path, data = build(work_dir, name)
    meta = json.loads((path / "zarr.json").read_text())
    inner = meta["codecs"][0]["configuration"]["codecs"]
    assert [c["name"] for c in inner][0] == "sharding_indexed" and len(inner) == 2, inner
    assert_reads_like_numpy(lsio_zarr, path, data, work_dir)
    # damage the middle of one nested shard (inside the gzip or crc32c
    # checked bytes): an error naming the shard
    shard, (chunk, at_start) = AFTER_CASES[name][3], AFTER_CASES[name][4][0]
    n = int(np.prod([s // c for s, c in zip(shard, chunk)]))
    key = path / "c" / "0" / "0"
    blob = bytearray(key.read_bytes())
    ix = blob[:16 * n] if at_start else blob[len(blob) - 16 * n - 4:-4]
    off, nb = next((int.from_bytes(ix[k:k + 8], "little"), int.from_bytes(ix[k + 8:k + 16],
                    "little")) for k in range(0, 16 * n, 16) if ix[k:k + 8] != b"\xff" * 8)
    blob[off + nb // 2] ^= 0x40
    key.write_bytes(bytes(blob))
    r = lsio_zarr("get", path, "-o", work_dir / "x.npy")
    assert r.returncode != 0, "a damaged nested shard read without an error"
    rel = key.relative_to(path).as_posix()
    assert rel in r.stderr, r.stderr


# ------------------------------------------------ entries overlapping the index

RAW_SHARD = {"name": "sharding_indexed", "configuration": {
    "chunk_shape": [2], "codecs": [BYTES], "index_codecs": INDEX}}


def write_u1(path, codecs, blob):
    """A uint8 array of 8 elements stored as the single shard c/0 (blob)."""
    meta = {"zarr_format": 3, "node_type": "array", "shape": [8], "data_type": "uint8",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [8]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": codecs, "attributes": {}}
    path.mkdir(parents=True)
    (path / "zarr.json").write_text(json.dumps(meta))
    (path / "c").mkdir()
    (path / "c" / "0").write_bytes(blob)


def set_entry(blob, pos, n, i, off):
    """Set the offset of entry i of the n-entry index at blob[pos:] (with
    its CRC-32C recomputed, so that only the entry check can catch it)."""
    raw = bytearray(blob[pos:pos + 16 * n])
    raw[16 * i:16 * i + 8] = off.to_bytes(8, "little")
    blob[pos:pos + 16 * n + 4] = bytes(raw) + crc32c(bytes(raw)).to_bytes(4, "little")


def u1_data():
    return np.arange(11, 19, dtype="u1")


def overlap_store(work_dir, at_start):
    """One level: 4 inner chunks of 2 bytes, an index of 68 bytes; entry 1
    moved to overlap the index by one byte (inside the shard)."""
    conf = dict(RAW_SHARD["configuration"], index_location="start" if at_start else "end")
    codecs = [{"name": "sharding_indexed", "configuration": conf}]
    blob = bytearray(encode_shard(u1_data(), (2,), lambda a: a.tobytes(), 0, at_start))
    assert len(blob) == 8 + 68
    good = work_dir / f"good{int(at_start)}.zarr"
    write_u1(good, codecs, bytes(blob))
    set_entry(blob, 0 if at_start else 8, 4, 1, 67 if at_start else 7)
    bad = work_dir / f"overlap{int(at_start)}.zarr"
    write_u1(bad, codecs, bytes(blob))
    return good, bad


def test_entry_overlapping_index_at_start_refused(lsio_zarr, work_dir):
    good, bad = overlap_store(work_dir, True)
    assert np.array_equal(lsio_get(lsio_zarr, good, work_dir / "g.npy"), u1_data())
    r = lsio_zarr("get", bad, "-o", work_dir / "x.npy")
    assert r.returncode != 0, "an inner chunk inside the shard index was read as data"
    assert "c/0" in r.stderr and "index entry 1" in r.stderr and "overlap" in r.stderr, \
        r.stderr


def test_entry_overlapping_index_at_end_refused(lsio_zarr, work_dir):
    """The read of the index at the end tells the shard's size (where it
    begins plus its length), so the end side is checked too (remotely as
    well: test_remote_zarr)."""
    good, bad = overlap_store(work_dir, False)
    assert np.array_equal(lsio_get(lsio_zarr, good, work_dir / "g.npy"), u1_data())
    r = lsio_zarr("get", bad, "-o", work_dir / "x.npy")
    assert r.returncode != 0, "an inner chunk inside the shard index was read as data"
    assert "c/0" in r.stderr and "index entry 1" in r.stderr, r.stderr


@pytest.mark.parametrize("at_start", [False, True])
def test_nested_entry_overlapping_index_refused(lsio_zarr, work_dir, at_start):
    """Two nested shards of 4 (2 inner chunks of 2 bytes + a 36-byte index)
    in an outer shard of 8 whose index is at the start (2 entries, 36 bytes);
    entry 1 of the first nested shard moved to overlap its index. The codec
    knows a nested shard's size: both sides are checked."""
    conf = dict(RAW_SHARD["configuration"], index_location="start" if at_start else "end")
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4], "index_codecs": INDEX, "index_location": "start",
        "codecs": [{"name": "sharding_indexed", "configuration": conf}]}}]
    raw = lambda a: a.tobytes()  # noqa: E731
    inner = lambda a: encode_shard(a, (2,), raw, 0, at_start)  # noqa: E731
    blob = bytearray(encode_shard(u1_data(), (4,), inner, 0, True))
    assert len(blob) == 36 + 2 * 40
    good = work_dir / "nested_good.zarr"
    write_u1(good, codecs, bytes(blob))
    assert np.array_equal(lsio_get(lsio_zarr, good, work_dir / "g.npy"), u1_data())
    first = int.from_bytes(blob[0:8], "little")
    assert first == 36
    # nested shard 0 at blob[36:76]: its index at 36 or at 36 + 4
    set_entry(blob, first + (0 if at_start else 4), 2, 1, 35 if at_start else 3)
    bad = work_dir / "nested_overlap.zarr"
    write_u1(bad, codecs, bytes(blob))
    r = lsio_zarr("get", bad, "-o", work_dir / "x.npy")
    assert r.returncode != 0, "an inner chunk inside a nested shard's index was read as data"
    assert "c/0" in r.stderr and "sharding_indexed" in r.stderr and "index entry 1" in r.stderr \
        and "overlapping" in r.stderr, r.stderr


def test_writer_codec_after_nested_shard(lsio_zarr, lsio_bin, work_dir):
    """LSIO's writer (lib/zwrite, through the ctypes binding) with gzip after
    a nested shard: each stored nested shard is a gzip member (Python's gzip
    opens it) holding a shard whose inner chunks are numpy's blocks; then
    LSIO's reader reads the array back as numpy wrote it."""
    import gzip

    from zwrite_binding import ZWriter, liblsio_path
    lib = liblsio_path()
    if lib is None:
        pytest.skip("liblsio.so is not built next to lsio (make)")
    x = (np.arange(16 * 12, dtype="<i4").reshape(16, 12) * 7919) % 1000 - 500
    x[0:4, 0:3] = 0  # a whole inner chunk of fill: left out of its nested shard
    nested = {"chunk_shape": [4, 3], "codecs": [BYTES], "index_codecs": INDEX,
              "index_location": "end"}
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [8, 6], "index_codecs": INDEX, "index_location": "start",
        "codecs": [{"name": "sharding_indexed", "configuration": nested},
                   AFTER["gzip"][0]]}}]
    a = ZWriter(lib).create(str(work_dir / "w.zarr"), 3, x.shape, (16, 12), "<i4",
                            codecs=json.dumps(codecs), fill="0")
    a.write(x)
    a.close()
    blob = (work_dir / "w.zarr" / "c" / "0" / "0").read_bytes()
    raw = blob[:4 * 16]
    assert blob[64:68] == crc32c(raw).to_bytes(4, "little")
    outer = np.frombuffer(raw, "<u8").reshape(4, 2)
    for k, (off, n) in enumerate(outer.tolist()):
        sub = x[(k // 2) * 8:(k // 2 + 1) * 8, (k % 2) * 6:(k % 2 + 1) * 6]
        shard = gzip.decompress(blob[off:off + n])
        idx = shard[-(4 * 16 + 4):]
        assert idx[-4:] == crc32c(idx[:-4]).to_bytes(4, "little")
        for j, (o, m) in enumerate(np.frombuffer(idx[:-4], "<u8").reshape(4, 2).tolist()):
            want = sub[(j // 2) * 4:(j // 2 + 1) * 4, (j % 2) * 3:(j % 2 + 1) * 3]
            if o == MISSING:
                assert k == 0 and j == 0 and not want.any()
                continue
            assert o + m <= len(shard) - len(idx)
            got = np.frombuffer(shard[o:o + m], "<i4").reshape(4, 3)
            assert np.array_equal(got, want), (k, j)
    assert np.array_equal(lsio_get(lsio_zarr, work_dir / "w.zarr", work_dir / "w.npy"), x)


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
