/*
 * test_remote.c — the reader over HTTP: arrays of the zarrita fixture
 * stores (v2 and v3: compressed, sharded with missing shards and inner
 * chunks, F order, strings) served by nginx read the same as from the local
 * files; a consolidated v2 group lists its members without a listing (which
 * HTTP has not); a missing array is -ENOENT naming its URL. Skips when
 * nginx or the fixtures are not there.
 */
#include <errno.h>

#include "../http/http_testutil.h"
#include "lsio_zarr.h"

static const char *arrays[] = {
    "v2/data.zarr/1d.contiguous.zlib.i2",
    "v2/data.zarr/3d.chunked.mixed.i2.F",
    "v2/data.zarr/2d.chunked.ragged.i2",
    "v3/data.zarr/2d.chunked.compressed.sharded.filled.i2",
    "v3/data.zarr/3d.chunked.mixed.compressed.sharded.i2",
    "v3/data.zarr/1d.chunked.filled.compressed.sharded.i2",
    "v3/data.zarr/1d.contiguous.f4.be",
    "v3/data.zarr/1d.chunked.string.vlen",
};

static void *read_all(const char *url, size_t *len, int *strings)
{
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, url, NULL));
    const lsio_zarr_info *in = lsio_zarr_get_info(a);
    void *out;
    *strings = in->dtype.kind == LSIO_DT_STRING;
    if (*strings) {
        uint64_t *off, n;
        char *bytes;
        CHECK_OK(lsio_zarr_read_strings(a, NULL, &off, &bytes, &n));
        *len = (size_t)(n + 1) * 8 + (size_t)off[n];
        out = malloc(*len);
        memcpy(out, off, (size_t)(n + 1) * 8);
        memcpy((char *)out + (n + 1) * 8, bytes, (size_t)off[n]);
        free(off);
        free(bytes);
    } else {
        lsio_selection s;
        lsio_selection_all(&s, in->ndim, in->shape);
        *len = (size_t)lsio_selection_count(&s) * lsio_zarr_itemsize(a);
        out = malloc(*len ? *len : 1);
        CHECK_OK(lsio_zarr_read(a, NULL, out, *len));
    }
    lsio_zarr_close(a);
    return out;
}

int main(void)
{
    const char *fx = getenv("LSIO_FIXTURES");
    char root[4096];
    snprintf(root, sizeof root, "%s/zarrita", fx && *fx ? fx : "../shared/fixtures");
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/v2/data.zarr/.zgroup", root);
    if (access(probe, R_OK) != 0)
        SKIP("no zarrita fixtures at %s (set LSIO_FIXTURES)", root);
    char *abs = realpath(root, NULL);
    CHECK(abs);
    test_server srv;
    server_start(&srv, "nginx", abs);
    char url[4400], path[4400];
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", abs, arrays[i]);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", srv.port, arrays[i]);
        size_t l1, l2;
        int s1, s2;
        void *local = read_all(path, &l1, &s1), *remote = read_all(url, &l2, &s2);
        if (l1 != l2 || memcmp(local, remote, l1)) {
            fprintf(stderr, "%s: HTTP read differs from the local one\n", arrays[i]);
            return 1;
        }
        free(local);
        free(remote);
    }
    /* consolidated group over HTTP */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/data.zarr", srv.port);
    lsio_zarr_group *g;
    CHECK_OK(lsio_zarr_group_open(&g, url, NULL));
    CHECK(lsio_zarr_group_count(g) > 20);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_group_open_array(g, "2d.chunked.i2", &a));
    CHECK_EQ(lsio_zarr_get_info(a)->ndim, 2);
    lsio_zarr_close(a);
    lsio_zarr_group_close(g);
    /* nothing there */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/data.zarr/nothing", srv.port);
    CHECK_EQ(lsio_zarr_open(&a, url, NULL), -ENOENT);
    CHECK(strstr(lsio_last_error(), url));
    server_stop(&srv);
    free(abs);
    return 0;
}
