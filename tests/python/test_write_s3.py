"""Writing Zarr to S3 (s3rver on 127.0.0.1, boto3 as the second client):
`lsio copy` to s3:// and back gives what zarr-python / zarrita read
identically; partial writes on S3 read, merge and PUT, and a chunk that
becomes the fill value is DELETEd; a server killed in the middle of a
write makes the write fail naming the s3:// location, and every object
left is a whole chunk, old or new.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
import harness  # noqa: E402
from zwrite_binding import LsioError, ZWriter, liblsio_path  # noqa: E402

BUCKET = "lsio-write"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    pytest.importorskip("boto3")
    root = tmp_path_factory.mktemp("s3rver")
    try:
        with harness.server("s3rver", root, buckets=[BUCKET]) as port:
            yield port
    except harness.Skip as e:
        pytest.skip(str(e))


@pytest.fixture
def s3env(s3, monkeypatch):
    env = harness.s3_env(s3)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_NO_SIGN_REQUEST", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(k, raising=False)
    return dict(os.environ)


def keys(port, prefix):
    c = harness.boto3_client(port)
    out = set()
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        out |= {o["Key"][len(prefix):] for o in page.get("Contents", [])}
    return out


def run(lsio_bin, env, *args):
    return subprocess.run([str(lsio_bin), *map(str, args), "--no-progress"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_copy_to_s3_and_back(lsio_zarr, lsio_bin, s3, s3env, work_dir):
    x = np.random.default_rng(0).standard_normal((20, 30, 40)).astype("<f4")
    x[:5, :10, :10] = 0
    z = zarr.open_array(str(work_dir / "s"), mode="w", shape=x.shape, chunks=(5, 10, 10),
                        dtype="<f4", compressor=numcodecs.Zstd(3), fill_value=0)
    z[...] = x
    z.attrs["k"] = "v"
    url = f"s3://{BUCKET}/a.zarr"
    r = run(lsio_bin, s3env, "copy", work_dir / "s", url)
    assert r.returncode == 0, r.stderr
    got = keys(s3, "a.zarr/")
    assert ".zarray" in got and ".zattrs" in got and "0.0.0" not in got and "3.2.3" in got
    r = run(lsio_bin, s3env, "copy", url, work_dir / "back")
    assert r.returncode == 0, r.stderr
    b = zarr.open_array(str(work_dir / "back"), mode="r")
    np.testing.assert_array_equal(b[...], x)
    assert dict(b.attrs) == {"k": "v"}
    # v3 sharded on S3, and back to v2
    r = run(lsio_bin, s3env, "copy", work_dir / "s", f"s3://{BUCKET}/b.zarr", "--format", "3",
            "--shards", "10,30,40")
    assert r.returncode == 0, r.stderr
    assert keys(s3, "b.zarr/") == {"zarr.json", "c/0/0/0", "c/1/0/0"}
    r = run(lsio_bin, s3env, "copy", f"s3://{BUCKET}/b.zarr", work_dir / "b2", "--format", "2")
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(zarr.open_array(str(work_dir / "b2"), mode="r")[...], x)


def test_partial_writes_on_s3(s3, s3env):
    p = liblsio_path()
    if p is None:
        pytest.skip("liblsio.so is not built")
    w = ZWriter(p)
    url = f"s3://{BUCKET}/p.zarr"
    x = np.arange(1, 101, dtype="<i4").reshape(10, 10)
    a = w.create(url, 2, x.shape, (5, 5), "<i4", codecs="gzip:1", fill=0, overwrite=True)
    a.write(x)
    a.write(np.full((3, 3), -7, "<i4"), (slice(4, 7), slice(4, 7)))  # touches all four chunks
    a.write(np.zeros((5, 5), "<i4"), (slice(5, 10), slice(0, 5)))  # chunk 1.0 becomes fill
    st = a.stats()
    a.close()
    x[4:7, 4:7] = -7
    x[5:, :5] = 0
    assert st["objects_merged"] == 4 and st["objects_deleted"] == 1
    assert keys(s3, "p.zarr/") == {".zarray", "0.0", "0.1", "1.1"}
    c = harness.boto3_client(s3)
    gz = numcodecs.GZip()
    for k, (i, j) in {"0.0": (0, 0), "0.1": (0, 1), "1.1": (1, 1)}.items():
        blob = c.get_object(Bucket=BUCKET, Key=f"p.zarr/{k}")["Body"].read()
        got = np.frombuffer(gz.decode(blob), "<i4").reshape(5, 5)
        np.testing.assert_array_equal(got, x[i * 5:(i + 1) * 5, j * 5:(j + 1) * 5])


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                kids = Path(f"/proc/{p}/task/{t}/children").read_text().split()
                out += map(int, kids)
                todo += map(int, kids)
        except OSError:
            pass
    return out


WRITER = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
from zwrite_binding import ZWriter
w = ZWriter(sys.argv[2])
a = w.open(sys.argv[3], (256, 128, 128), inflight=1)
print("start", flush=True)
a.write(np.random.default_rng(1).standard_normal((256, 128, 128)).astype("<f4"))
"""


def test_killed_server(tmp_path, lsio_zarr, lsio_bin):
    """A server killed in the middle of a write: the write fails naming the
    s3:// location; after a restart every object is an old or new chunk."""
    pytest.importorskip("boto3")
    import botocore.exceptions
    p = liblsio_path()
    root = tmp_path / "s3root"
    root.mkdir()
    old = np.full((256, 128, 128), 2.5, "<f4")
    chunks = (4, 128, 128)  # 64 chunks of 256 KiB
    url = f"s3://{BUCKET}/k.zarr"
    z = zarr.open_array(str(tmp_path / "src"), mode="w", shape=old.shape, chunks=chunks,
                        dtype="<f4", compressor=None)
    z[...] = old
    try:
        with harness.server("s3rver", root, buckets=[BUCKET]) as port:
            env = dict(os.environ, **harness.s3_env(port))
            r = run(lsio_bin, env, "copy", tmp_path / "src", url)
            assert r.returncode == 0, r.stderr
            w = subprocess.Popen([sys.executable, "-c", WRITER, str(Path(__file__).parent), str(p),
                                  url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            assert w.stdout.readline().strip() == "start"
            time.sleep(0.15)
            # kill the server (the node process serve.py started for this
            # test) hard, in the middle of the writes
            killed = False
            for pid in descendants(os.getpid()):
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if cmd and cmd[0].endswith(b"node") and any(b"s3rver" in a for a in cmd):
                    os.kill(pid, signal.SIGKILL)
                    killed = True
        out, err = w.communicate(timeout=300)
    except harness.Skip as e:
        pytest.skip(str(e))
    assert killed
    if w.returncode == 0:
        pytest.skip("the write finished before the server went away (machine too fast)")
    assert url in err and "LsioError" in err, err[-2000:]
    new = np.random.default_rng(1).standard_normal((256, 128, 128)).astype("<f4")
    with harness.server("s3rver", root, buckets=[BUCKET]) as port:
        c = harness.boto3_client(port)
        states = []
        for i in range(64):
            sl = slice(i * 4, i * 4 + 4)
            try:
                blob = c.get_object(Bucket=BUCKET, Key=f"k.zarr/{i}.0.0")["Body"].read()
            except botocore.exceptions.ClientError as e:
                # s3rver keeps an object's bytes and its metadata in two
                # files: killed between them, it answers 500 for that object
                # after the restart (S3 never shows a partial PUT); allowed
                # only for the one chunk LSIO reported as failed
                if (e.response.get("Error", {}).get("Code") == "InternalError" and
                        f"chunk {i}.0.0 " in err):
                    states.append("cut by the server")
                    continue
                raise
            if blob == old[sl].tobytes():
                states.append("old")
            elif blob == new[sl].tobytes():
                states.append("new")
            elif new[sl].tobytes().startswith(blob) and f"chunk {i}.0.0 " in err:
                # s3rver writes an object in place while it receives it, so
                # dying mid-PUT leaves it short (S3 itself never shows a
                # partial PUT); LSIO had one PUT in flight (inflight=1), and
                # it reported that very chunk as failed
                states.append("cut by the server")
            else:
                raise AssertionError(f"chunk {i}.0.0 is torn ({len(blob)} bytes)")
        assert "old" in states and states.count("cut by the server") <= 1, states
