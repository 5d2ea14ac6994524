"""The benchmark scripts run to the end in their quick form and write the
figures they claim (bench/RESULTS.md is made from them). bench/python
once crashed for a whole session after a helper it shares with bench/zarr
began to return three values; nothing else runs these scripts.

Each runs on its small array (data/bench/quick, made on first use), once,
and its --json output is checked: every timed figure there and positive,
LSIO's stats equal to numpy's over zarr-python's read.
"""
import json
import math
import os
import subprocess

PY = "/usr/bin/python3"


def run_bench(repo, lsio_bin, args, out, timeout=300):
    env = dict(os.environ)
    if lsio_bin:
        env["LSIO_BIN"] = str(lsio_bin)
    r = subprocess.run([PY] + [str(a) for a in args] + ["--json", str(out)], cwd=repo, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args[0]} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    with open(out) as f:
        return json.load(f), r.stdout


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_bench_zarr_quick(repo, lsio_bin, work_dir):
    d, text = run_bench(repo, lsio_bin, [repo / "bench" / "zarr", "--quick", "--no-drop", "--repeat", "1",
                                         "--copies", "lz4,shard", "--idle", "0.05"],
                        work_dir / "zarr.json")
    assert d["quick"] is True and d["idle"] == 0.05 and d["hugepages"]
    assert "0.05 s idle before each timed run" in text
    rows = {r["copy"]: r for r in d["results"]}
    assert set(rows) == {"lz4", "shard"}
    lz4 = rows["lz4"]
    for k in ("zarr-python_read_warm_s", "lsio_read_warm_s", "lsio-null_read_warm_s",
              "lsio-mem_read_warm_s", "lsio-mem_out_warm_s", "zarr-python_stats_warm_s",
              "lsio_stats_warm_s", "codec_1t_gib_s", "placed_1t_gib_s", "lsio_get_peak_rss"):
        assert positive(lz4.get(k)), (k, lz4.get(k))
    for k in ("min", "max", "mean", "std"):
        a, b = lz4["lsio_stats"][k], lz4["zarr-python_stats"][k]
        assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), (k, a, b)
    assert lz4["lsio_stats"]["nan_count"] == lz4["zarr-python_stats"]["nan_count"]
    assert positive(rows["shard"].get("lsio_read_warm_s"))
    assert "stats agree with numpy" in text


def test_bench_python_quick(repo, work_dir):
    d, text = run_bench(repo, None, [repo / "bench" / "python" / "bench.py", "--quick",
                                     "--idle", "0.01"], work_dir / "python.json")
    assert d["idle"] == 0.01 and "0.01 s idle before each timed run" in text
    rows = {r["workload"]: r for r in d["results"]}
    assert "full read" in rows and "1000 crops (4, 64, 64)" in rows, sorted(rows)
    for r in d["results"]:
        if "peer_s" in r:
            assert positive(r["peer_s"]) and positive(r["lsio_s"]), r
    assert positive(rows["full read"].get("ceiling"))
    step = [r for r in d["results"] if "lsio_batches_s" in r]
    assert len(step) == 1 and positive(step[0]["lsio_batches_s"]) and positive(step[0]["zarr_batches_s"])


def test_bench_remote_quick(repo, lsio_bin, work_dir):
    d, text = run_bench(repo, lsio_bin, [repo / "bench" / "remote", "--quick", "--repeat", "1",
                                         "--idle", "0.02"], work_dir / "remote.json")
    assert d["idle"] == 0.02 and "0.02 s idle before each timed run" in text
    rows = {r["server"]: r for r in d["results"]}
    assert set(rows) == {"http", "s3"}, sorted(rows)
    for r in rows.values():
        assert r["objects"] > 0 and r["stored_bytes"] > 0
        for k in ("lsio_s", "lsio_null_s", "lsio_mem_s", "zarr_python_s", "curl_s", "lsio_io_s"):
            assert positive(r.get(k)), (r["server"], k, r.get(k))
