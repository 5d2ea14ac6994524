"""Zarr v3 writing: what LSIO's writer stores, zarrita.js (tests/node,
read_zarrita.mjs) reads back identically.

Covers the v3 data types zarrita decodes, the v3 codecs (bytes in both byte
orders, transpose, zstd, gzip, blosc, crc32c), both chunk key encodings,
sharded arrays (index at the end and at the start, edge shards, inner
chunks equal to the fill value left out, all-fill shards not stored) and
partial writes into shards (untouched inner chunks keep their stored
bytes). The shard layout itself is checked byte by byte against the
sharding spec with numcodecs (index crc32c, offsets).
"""
import json
import os
import struct
import subprocess
import tempfile

import numpy as np
import pytest

from zwrite_binding import LsioError, ZWriter, liblsio_path  # noqa: E402

V3_DTYPES = {"bool": "|b1", "int8": "|i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
             "uint8": "|u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
             "float16": "<f2", "float32": "<f4", "float64": "<f8"}


@pytest.fixture(scope="module")
def zw():
    p = liblsio_path()
    if p is None:
        pytest.skip("liblsio.so is not built (make)")
    return ZWriter(p)


def zarrita_read(node_dir, root, names):
    # stdout to a file: node cuts output to a pipe short when the script
    # exits with writes pending (64 KiB)
    out = tempfile.TemporaryFile("w+")
    r = subprocess.run(["node", str(node_dir / "read_zarrita.mjs"), str(root), *names],
                       stdout=out, stderr=subprocess.PIPE, text=True, timeout=120)
    out.seek(0)
    recs = {}
    for line in out.read().splitlines():
        rec = json.loads(line)
        assert "error" not in rec, f"zarrita: {rec['error']}"
        dt = np.dtype(V3_DTYPES[rec["dtype"]])
        data = rec["data"]
        if dt.kind == "f":
            data = [float(v) for v in data]
        elif dt.kind in "iu":
            data = [int(v) for v in data]
        recs[rec["path"]] = np.array(data, dtype=dt).reshape(rec["shape"])
    assert len(recs) == len(names), r.stderr
    return recs


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        x = rng.integers(0, 2, shape).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        x = rng.integers(max(info.min, -10**9), min(info.max, 10**9), shape, endpoint=True).astype(dt)
    else:
        x = (rng.standard_normal(shape) * 100).astype(dt)
        x.flat[::5] = np.nan
    x[:4, :3] = np.zeros((), dt)
    return x


def same(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_array_equal(a, b.astype(a.dtype))


def objects(path):
    out = set()
    for d, _, fs in os.walk(path):
        out |= {os.path.relpath(os.path.join(d, f), path) for f in fs if f != "zarr.json"}
    return out


def test_dtypes(zw, work_dir, node_dir):
    names, ref = [], {}
    for name, dt in V3_DTYPES.items():
        if name == "float16":
            continue  # zarrita.js cannot decode float16 (see test_zarr_fixtures)
        x = sample(dt, (13, 11), seed=len(names))
        a = zw.create(work_dir / name, 3, x.shape, (4, 3), dt, codecs="zstd:3", fill=0)
        a.write(x)
        a.close()
        meta = json.loads((work_dir / name / "zarr.json").read_text())
        assert meta["data_type"] == name and meta["node_type"] == "array"
        names.append(name)
        ref[name] = x
        assert "c/0/0" not in objects(work_dir / name)  # the zero chunk
    got = zarrita_read(node_dir, work_dir, names)
    for n in names:
        same(got[n], ref[n])


CODECS = {
    "none": "[]",
    "zstd": "zstd:5",
    "gzip": "gzip:6",
    "blosc": "blosc:lz4:5:shuffle",
    "blosc_bit": "blosc:zstd:3:bitshuffle",
    "big": '[{"name": "bytes", "configuration": {"endian": "big"}}, '
           '{"name": "zstd", "configuration": {"level": 1, "checksum": false}}]',
    "crc": '[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]',
    "transpose": '[{"name": "transpose", "configuration": {"order": [1, 0]}}, '
                 '{"name": "bytes", "configuration": {"endian": "little"}}, '
                 '{"name": "gzip", "configuration": {"level": 1}}]',
}


def test_codecs(zw, work_dir, node_dir):
    x = sample("<i4", (21, 17), seed=9)
    for name, c in CODECS.items():
        a = zw.create(work_dir / name, 3, x.shape, (5, 4), "<i4", codecs=c, fill=0)
        a.write(x)
        a.close()
    got = zarrita_read(node_dir, work_dir, list(CODECS))
    for n in CODECS:
        same(got[n], x)


def test_v2_key_encoding_and_attrs(zw, work_dir, node_dir):
    x = sample("<f8", (9, 8), seed=2)
    a = zw.create(work_dir / "k", 3, x.shape, (3, 3), "<f8", codecs="zstd:3", fill='"NaN"',
                  separator=".", attrs={"a": 1}, dimension_names=["y", None])
    a.write(x)
    a.close()
    meta = json.loads((work_dir / "k" / "zarr.json").read_text())
    assert meta["chunk_key_encoding"] == {"name": "default", "configuration": {"separator": "."}}
    assert meta["attributes"] == {"a": 1} and meta["dimension_names"] == ["y", None]
    assert meta["fill_value"] == "NaN"
    assert "c.0.1" in objects(work_dir / "k")
    same(zarrita_read(node_dir, work_dir, ["k"])["k"], x)


def read_shard(path, inner_per, at_start=False):
    """Parse a shard per the spec: [(offset, nbytes) or None] per inner chunk."""
    blob = path.read_bytes()
    n = int(np.prod(inner_per))
    isz = 16 * n + 4
    idx = blob[:isz] if at_start else blob[-isz:]
    body, crc = idx[:-4], struct.unpack("<I", idx[-4:])[0]
    ent = np.frombuffer(body, "<u8").reshape(n, 2)
    out = []
    for off, nb in ent:
        if off == 2**64 - 1 and nb == 2**64 - 1:
            out.append(None)
        else:
            assert off + nb <= len(blob)
            out.append((int(off), int(nb)))
    return blob, out, crc, body


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize("at_start", [False, True])
def test_sharded(zw, work_dir, node_dir, at_start):
    import numcodecs
    x = sample("<f4", (37, 26), seed=4)
    x[20:, :] = 0  # whole shards of the fill value
    codecs = ('[{"name": "sharding_indexed", "configuration": {"chunk_shape": [4, 5], '
              '"codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, '
              '{"name": "zstd", "configuration": {"level": 3, "checksum": false}}], '
              '"index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, '
              '{"name": "crc32c"}], "index_location": "%s"}}]' % ("start" if at_start else "end"))
    a = zw.create(work_dir / "s", 3, x.shape, (8, 10), "<f4", codecs=codecs, fill=0)
    a.write(x)
    st = a.stats()
    a.close()
    # a 5 x 3 grid of shards; rows 3 and 4 (from 24) hold only zeros
    assert st["objects_written"] == 9 and st["objects_deleted"] == 6
    assert objects(work_dir / "s") == {f"c/{i}/{j}" for i in range(3) for j in range(3)}
    if not at_start:  # zarrita.js 0.7.5 reads every index from the end
        same(zarrita_read(node_dir, work_dir, ["s"])["s"], x)
    # shard c/0/0: inner (0,0) is zero (x[:4,:3] = 0 but x[:4, 3:5] not) ...
    blob, ent, crc, body = read_shard(work_dir / "s" / "c" / "0" / "0", (2, 2), at_start)
    assert crc == crc32c(body)
    for k, e in enumerate(ent):
        i, j = divmod(k, 2)
        want = x[i * 4:(i + 1) * 4, j * 5:(j + 1) * 5]
        assert e is not None
        got = np.frombuffer(numcodecs.Zstd().decode(blob[e[0]:e[0] + e[1]]), "<f4").reshape(4, 5)
        np.testing.assert_array_equal(got, want)


def test_sharded_partial_writes(zw, work_dir, node_dir):
    x = np.zeros((24, 30), "<i2")
    a = zw.create(work_dir / "p", 3, x.shape, (4, 5), "<i2", codecs="zstd:3", fill=0,
                  shards=(8, 15))
    rng = np.random.default_rng(3)
    for i in range(25):
        r0, r1 = sorted(rng.integers(0, 24, 2))
        c0, c1 = sorted(rng.integers(0, 30, 2))
        step = int(rng.choice([1, 2]))
        key = (slice(r0, r1 + 1, step), slice(c0, c1 + 1))
        val = rng.integers(-5, 5, x[key].shape).astype("<i2") if i % 3 else np.zeros(x[key].shape, "<i2")
        a.write(val, key)
        x[key] = val
    st = a.stats()
    a.close()
    assert st["objects_merged"] > 0
    same(zarrita_read(node_dir, work_dir, ["p"])["p"], x)
    # exactly the shards holding a nonzero value are stored
    want = {f"c/{i}/{j}" for i in range(3) for j in range(2)
            if x[i * 8:(i + 1) * 8, j * 15:(j + 1) * 15].any()}
    assert objects(work_dir / "p") == want
    # reopening for writing takes the sharded metadata back
    a = zw.open(work_dir / "p", x.shape)
    a.write(np.full((24, 30), 3, "<i2"))
    a.close()
    same(zarrita_read(node_dir, work_dir, ["p"])["p"], np.full((24, 30), 3, "<i2"))


def test_untouched_inner_chunks_keep_their_bytes(zw, work_dir):
    x = np.arange(16 * 16, dtype="<u4").reshape(16, 16) + 1
    a = zw.create(work_dir / "u", 3, x.shape, (4, 4), "<u4", codecs="gzip:1", fill=0,
                  shards=(16, 16))
    a.write(x)
    blob0, ent0, _, _ = read_shard(work_dir / "u" / "c" / "0" / "0", (4, 4))
    a.write(np.full((2, 2), 7, "<u4"), (slice(5, 7), slice(5, 7)))  # inside inner chunk (1, 1)
    a.close()
    blob1, ent1, _, _ = read_shard(work_dir / "u" / "c" / "0" / "0", (4, 4))
    for k in range(16):
        old = blob0[ent0[k][0]:ent0[k][0] + ent0[k][1]]
        new = blob1[ent1[k][0]:ent1[k][0] + ent1[k][1]]
        assert (old == new) == (k != 5), k


def test_v3_errors(zw, work_dir):
    with pytest.raises(LsioError) as e:
        zw.create(work_dir / "e", 3, (4,), (2,), "<i4", codecs="lz4:1")
    assert "lz4" in e.value.msg
    with pytest.raises(LsioError) as e:
        zw.create(work_dir / "e", 3, (4,), (3,), "<i4", shards=(4,))
    assert "shards" in e.value.msg
    with pytest.raises(LsioError):
        zw.create(work_dir / "e", 3, (4,), (2,), "|S3")


def test_strings(zw, work_dir, node_dir):
    words = ["", "a", "bé", "héllo", "😀", "xyz" * 9]
    x = np.array([words[(i * 7) % 6] for i in range(6 * 9)], dtype=object).reshape(6, 9)
    a = zw.create(work_dir / "t", 3, x.shape, (2, 4), "string", codecs="zstd:3", fill='""',
                  shards=(4, 8))
    a.write_strings(x)
    a.write_strings(np.array([["Q"] * 3] * 2, dtype=object), (slice(1, 3), slice(2, 5)))
    x[1:3, 2:5] = "Q"
    a.close()
    meta = json.loads((work_dir / "t" / "zarr.json").read_text())
    assert meta["data_type"] == "string"
    out = tempfile.TemporaryFile("w+")
    subprocess.run(["node", str(node_dir / "read_zarrita.mjs"), str(work_dir), "t"],
                   stdout=out, timeout=60)
    out.seek(0)
    rec = json.loads(out.read())
    assert rec.get("error") is None, rec
    assert rec["data"] == list(x.ravel())
