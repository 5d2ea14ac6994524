"""`lsio info`: arrays and group trees (text and --json) against what the
metadata and the store hold (written by zarr-python 2.13, and the zarrita
fixtures), chunk counts and stored sizes against a listing of the
directory, and errors for missing paths."""
import json

import numpy as np
import pytest


@pytest.fixture
def tree(work_dir):
    """root (attrs) / temp (float32, 2 chunks missing) + sub/ints (int16)."""
    import numcodecs
    import zarr
    root = zarr.open_group(str(work_dir / "t.zarr"), mode="w")
    root.attrs["title"] = "test tree"
    t = root.create_dataset("temp", shape=(20, 30), chunks=(10, 10), dtype="<f4",
                            compressor=numcodecs.Zstd(level=1), fill_value=float("nan"))
    t[...] = np.arange(600, dtype="<f4").reshape(20, 30)
    t.attrs["_ARRAY_DIMENSIONS"] = ["y", "x"]
    t.attrs["units"] = "K"
    (work_dir / "t.zarr" / "temp" / "0.0").unlink()
    (work_dir / "t.zarr" / "temp" / "1.2").unlink()
    sub = root.create_group("sub")
    i = sub.create_dataset("ints", shape=(5,), chunks=(5,), dtype=">i2", compressor=None,
                           fill_value=3)
    i[...] = np.arange(5)
    return work_dir / "t.zarr"


def chunk_files(path):
    return [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]


def test_array_json(tree, lsio_zarr):
    r = lsio_zarr("info", "--json", tree / "temp")
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)
    assert o["node"] == "array" and o["zarr_format"] == 2
    assert o["shape"] == [20, 30] and o["chunks"] == [10, 10] and o["shards"] is None
    assert o["dtype"] == "<f4" and o["order"] == "C"
    assert o["fill_value"] == "NaN"
    assert o["nchunks"] == 6 and o["chunks_present"] == 4
    assert o["stored_bytes"] == sum(p.stat().st_size for p in chunk_files(tree / "temp"))
    assert o["logical_bytes"] == 20 * 30 * 4
    assert o["attributes"]["units"] == "K"
    assert "zstd" in json.dumps(o["codecs"])


def test_group_json_tree(tree, lsio_zarr):
    r = lsio_zarr("info", "--json", tree)
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)
    assert o["node"] == "group" and o["attributes"] == {"title": "test tree"}
    assert set(o["members"]) == {"temp", "sub"}
    assert o["members"]["temp"]["node"] == "array"
    ints = o["members"]["sub"]["members"]["ints"]
    assert ints["dtype"] == ">i2" and ints["shape"] == [5] and ints["fill_value"] == 3
    assert ints["chunks_present"] == 1 and ints["stored_bytes"] == 10


def test_text(tree, lsio_zarr):
    r = lsio_zarr("info", tree)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for word in ("group", "temp", "sub", "ints", "20 x 30", "10 x 10", "<f4", ">i2",
                 "4 present", "NaN", "zstd", "test tree"):
        assert word in out, f"{word!r} missing from:\n{out}"


def test_v3_sharded_and_dimension_names(fixtures_dir, lsio_zarr):
    path = fixtures_dir / "zarrita/v3/data.zarr/2d.chunked.compressed.sharded.i2"
    meta = json.loads((path / "zarr.json").read_text())
    r = lsio_zarr("info", "--json", path)
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)
    assert o["zarr_format"] == 3 and o["shape"] == meta["shape"]
    shard = meta["chunk_grid"]["configuration"]["chunk_shape"]
    inner = meta["codecs"][0]["configuration"]["chunk_shape"]
    assert o["shards"] == shard and o["chunks"] == inner
    assert o["dtype"] == "<i2"
    assert o["chunks_present"] == len([p for p in (path / "c").rglob("*") if p.is_file()])


def test_v3_group_with_consolidated(fixtures_dir, lsio_zarr):
    r = lsio_zarr("info", "--json", fixtures_dir / "zarrita/v3/data.zarr/consolidated")
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)
    assert o["members"]["nested"]["members"]["1d.i2"]["shape"] == [4]


def test_group_with_spaces(fixtures_dir, lsio_zarr):
    path = fixtures_dir / "zarrita/v2/data.zarr/my group with spaces"
    r = lsio_zarr("info", "--json", path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["attributes"]["description"] == "A group with spaces in the name"


def test_missing(lsio_zarr, run_lsio, work_dir):
    url = work_dir / "nope.zarr"
    r = lsio_zarr("info", url)
    assert r.returncode == 1 and str(url) in r.stderr
    (work_dir / "empty").mkdir()
    r = lsio_zarr("info", "--json", work_dir / "empty")
    assert r.returncode == 1 and "empty" in r.stderr
    assert r.stdout == ""
    assert run_lsio("info").returncode == 2
    assert run_lsio("info", url, "--frobnicate").returncode == 2


def test_json_counts_past_1e15_keep_their_digits(tmp_path, lsio_zarr):
    """Shapes, chunk counts and byte counts of a large (virtual, mostly
    missing) array are printed as exact integers, not as doubles rounded to
    15 digits (the default of the JSON library)."""
    n = 6077777777777779  # < 2^53: exact as a double, but 16 digits
    p = tmp_path / "huge.zarr"
    p.mkdir()
    (p / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": [n], "chunks": [1000003], "dtype": "<f4",
        "compressor": None, "fill_value": 0, "filters": None, "order": "C"}))
    r = lsio_zarr("info", "--json", p)
    assert r.returncode == 0, r.stderr
    assert str(n) in r.stdout and "e+15" not in r.stdout and "e+16" not in r.stdout, r.stdout
    info = json.loads(r.stdout)
    assert info["shape"] == [n]
    assert info["nchunks"] == -(-n // 1000003)
    assert info["logical_bytes"] == 4 * n
    assert info["chunks_present"] == 0
