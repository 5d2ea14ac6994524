"""The sharded v3 writer of bench/zarr (numpy + numcodecs, written by hand
per the sharding spec) makes arrays that zarrita.js reads back exactly,
edge shards included; and LSIO reads them the same."""
import importlib.machinery
import importlib.util
import itertools
import json
import subprocess

import numpy as np
import pytest


def load_bench(repo):
    loader = importlib.machinery.SourceFileLoader("bench_zarr", str(repo / "bench" / "zarr"))
    spec = importlib.util.spec_from_loader("bench_zarr", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def write_sample(repo, path):
    bench = load_bench(repo)
    shape, shard, inner = (5, 6, 7), (2, 4, 4), (1, 2, 2)
    data = np.arange(np.prod(shape), dtype="<f4").reshape(shape) * 0.25 - 3
    grid = [-(-s // c) for s, c in zip(shape, shard)]

    def blocks():
        for sc in itertools.product(*map(range, grid)):
            sl = tuple(slice(c * n, (c + 1) * n) for c, n in zip(sc, shard))
            yield sc, data[sl]
    bench.write_v3_sharded(str(path), shape, shard, inner, blocks())
    return data


def test_crc32c_known_value(repo):
    # RFC 3720's check value of CRC-32C over "123456789".
    assert load_bench(repo).crc32c(b"123456789") == 0xE3069283


def test_zarrita_reads_bench_shards(repo, node_dir, work_dir):
    data = write_sample(repo, work_dir / "s.zarr")
    r = subprocess.run(["node", str(node_dir / "read_zarrita.mjs"), str(work_dir / "s.zarr"), ""],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    got = np.array([float(v) for v in rec["data"]], dtype="<f4").reshape(rec["shape"])
    assert rec["dtype"] == "float32"
    assert np.array_equal(got, data)


def test_lsio_reads_bench_shards(repo, lsio_zarr, work_dir):
    data = write_sample(repo, work_dir / "s.zarr")
    out = work_dir / "o.npy"
    r = lsio_zarr("get", work_dir / "s.zarr", "-o", out)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(out), data)
    r = lsio_zarr("get", work_dir / "s.zarr", "--select", "1:4,::-3,5", "-o", out)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(out), data[1:4, ::-3, 5])
