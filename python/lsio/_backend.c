/*
 * _backend.c — the Backend type of lsio._lsio: one open LSIO IO backend
 * (lsio_io) with the options of lsio.open, shared by the arrays and groups
 * opened through it, plus the raw object reads lsio.zarr.Store needs
 * (get, get_many in one submission, size, list).
 *
 * Every blocking LSIO call runs with the GIL released. get_many takes the
 * GIL back only between batches of completions to turn them into bytes
 * objects, and releases each IO buffer as soon as it is copied, so the
 * backend's buffer pool never fills up with buffers held here.
 */
#include "_lsio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const backend_names[] = {"auto", "uring", "posix", "http", "s3", NULL};

static int parse_backend(const char *s, lsio_backend_kind *k)
{
    for (int i = 0; backend_names[i]; i++)
        if (!strcmp(s, backend_names[i])) {
            *k = (lsio_backend_kind)i;
            return 0;
        }
    PyErr_Format(PyExc_ValueError, "backend='%s': expected one of auto, uring, posix, http, s3",
                 s);
    return -1;
}

LsioBackend *lsio_py_backend_open(PyObject *url, PyObject *kwargs)
{
    static char *kw[] = {"threads",  "inflight_bytes", "backend", "io_workers", "direct",
                         "pool_bytes", "region",       "endpoint", "profile",   "anonymous",
                         NULL};
    PyObject *threads = Py_None, *direct = Py_None;
    Py_ssize_t inflight = 0, pool_bytes = 0;
    const char *backend = "auto", *region = NULL, *endpoint = NULL, *profile = NULL;
    unsigned int io_workers = 0;
    int anonymous = 0;
    PyObject *empty = PyTuple_New(0);
    if (!empty)
        return NULL;
    int ok = PyArg_ParseTupleAndKeywords(empty, kwargs, "|$OnzIOnzzzp:open", kw, &threads,
                                         &inflight, &backend, &io_workers, &direct, &pool_bytes,
                                         &region, &endpoint, &profile, &anonymous);
    Py_DECREF(empty);
    if (!ok)
        return NULL;
    if (inflight < 0 || pool_bytes < 0) {
        PyErr_SetString(PyExc_ValueError, "inflight_bytes and pool_bytes must be >= 0");
        return NULL;
    }
    long nthreads = 0;
    if (threads != Py_None) {
        nthreads = PyLong_AsLong(threads);
        if (nthreads == -1 && PyErr_Occurred())
            return NULL;
        if (nthreads < 1 || nthreads > 4096) {
            PyErr_Format(PyExc_ValueError, "threads=%ld: expected 1 to 4096 (or None)", nthreads);
            return NULL;
        }
    }
    lsio_io_opts io = LSIO_IO_OPTS_DEFAULT;
    if (!backend)
        backend = "auto";
    if (parse_backend(backend, &io.backend) < 0)
        return NULL;
    io.workers = io_workers;
    if (direct != Py_None) {
        int d = PyObject_IsTrue(direct);
        if (d < 0)
            return NULL;
        io.direct = d;
    }
    io.pool_bytes = (size_t)pool_bytes;
    io.region = region;
    io.endpoint = endpoint;
    io.profile = profile;
    io.unsigned_requests = anonymous;

    const char *u = PyUnicode_AsUTF8(url);
    if (!u)
        return NULL;
    LsioBackend *b = PyObject_New(LsioBackend, &LsioBackend_Type);
    if (!b)
        return NULL;
    b->io = NULL;
    b->pool = NULL;
    b->inflight = (size_t)inflight;
    b->pid = getpid();
    Py_INCREF(url);
    b->url = url;
    b->kwargs = kwargs ? PyDict_Copy(kwargs) : PyDict_New();
    if (!b->kwargs) {
        Py_DECREF(b);
        return NULL;
    }
    int rc = 0;
    Py_BEGIN_ALLOW_THREADS
    if (nthreads > 0)
        rc = lsio_pool_create(&b->pool, (unsigned)nthreads);
    if (rc == 0)
        rc = lsio_io_open(&b->io, u, &io);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        lsio_py_raise(rc, u);
        Py_DECREF(b);
        return NULL;
    }
    return b;
}

void lsio_py_backend_opts(const LsioBackend *b, lsio_zarr_opts *o)
{
    lsio_zarr_opts d = LSIO_ZARR_OPTS_DEFAULT;
    *o = d;
    o->io_handle = b->io;
    o->pool = b->pool;
    o->inflight_bytes = b->inflight;
}

LsioBackend *lsio_py_backend_after_fork(const LsioBackend *b, PyObject *url)
{
    if (b->pid == getpid())
        return NULL;
    return lsio_py_backend_open(url, b->kwargs);
}

int lsio_py_open_array(void **handle, const char *url, const lsio_zarr_opts *o)
{
    lsio_zarr_array *a = NULL;
    int rc = lsio_zarr_open(&a, url, o);
    *handle = a;
    return rc;
}

int lsio_py_open_group(void **handle, const char *url, const lsio_zarr_opts *o)
{
    lsio_zarr_group *g = NULL;
    int rc = lsio_zarr_group_open(&g, url, o);
    *handle = g;
    return rc;
}

int lsio_py_open_over(LsioBackend *b, const char *url, lsio_py_open_fn open_fn, void **handle)
{
    lsio_zarr_opts o;
    lsio_py_backend_opts(b, &o);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = open_fn(handle, url, &o);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        lsio_py_raise(rc, url);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------ arrays and groups alike */

/* In a forked child: reopen s's handle by URL over a new backend of this
 * process, closing the old handle's memory (its io belongs to the parent's
 * backend). 0 when done or when the backend is this process's own. */
static int reopen_after_fork(LsioHandle *s)
{
    LsioBackend *nb = lsio_py_backend_after_fork(s->backend, s->url);
    if (!nb)
        return PyErr_Occurred() ? -1 : 0;
    void *h = NULL;
    if (lsio_py_open_over(nb, PyUnicode_AsUTF8(s->url), s->kind->open, &h) < 0) {
        Py_DECREF(nb);
        return -1;
    }
    s->kind->close(s->h);
    s->h = h;
    Py_SETREF(s->backend, nb);
    if (s->kind->changed)
        s->kind->changed(s);
    return 0;
}

int lsio_py_check_open(LsioHandle *s)
{
    if (s->closed || !s->h) {
        PyErr_Format(PyExc_ValueError, "operation on a closed lsio %s", s->kind->what);
        return -1;
    }
    return 0;
}

int lsio_py_ready(LsioHandle *s)
{
    return lsio_py_check_open(s) < 0 || reopen_after_fork(s) < 0 ? -1 : 0;
}

int lsio_py_enter(LsioHandle *s)
{
    if (lsio_py_ready(s) < 0)
        return -1;
    s->busy++;
    return 0;
}

void lsio_py_release(LsioHandle *s)
{
    if (s->h)
        s->kind->close(s->h);
    s->h = NULL;
    if (s->kind->changed)
        s->kind->changed(s);
    Py_CLEAR(s->backend);
}

void lsio_py_leave(LsioHandle *s)
{
    if (--s->busy == 0 && s->closed)
        lsio_py_release(s);
}

PyObject *lsio_py_close(PyObject *o, PyObject *unused)
{
    (void)unused;
    LsioHandle *s = (LsioHandle *)o;
    s->closed = 1;
    if (s->busy == 0)
        lsio_py_release(s);
    Py_RETURN_NONE;
}

PyObject *lsio_py_ctx_enter(PyObject *o, PyObject *unused)
{
    (void)unused;
    if (lsio_py_check_open((LsioHandle *)o) < 0)
        return NULL;
    Py_INCREF(o);
    return o;
}

PyObject *lsio_py_ctx_exit(PyObject *o, PyObject *args)
{
    (void)args;
    return lsio_py_close(o, NULL);
}

PyObject *lsio_py_get_closed(PyObject *o, void *unused)
{
    (void)unused;
    return PyBool_FromLong(((LsioHandle *)o)->closed);
}

static void backend_dealloc(LsioBackend *b)
{
    /* every Array and Group using io holds a reference: none is left. In a
     * forked child the threads of io and pool are not there: leave them. */
    if (b->pid == getpid()) {
        if (b->io)
            lsio_io_close(b->io);
        if (b->pool)
            lsio_pool_destroy(b->pool);
    }
    Py_XDECREF(b->url);
    Py_XDECREF(b->kwargs);
    PyObject_Free(b);
}

/* ------------------------------------------------------------- raw reads */

static PyObject *backend_get(LsioBackend *b, PyObject *arg)
{
    const char *loc = PyUnicode_AsUTF8(arg);
    if (!loc)
        return NULL;
    lsio_buf *buf = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lsio_io_read(b->io, loc, 0, LSIO_TO_END, &buf);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return lsio_py_raise(rc, loc);
    PyObject *r = PyBytes_FromStringAndSize(lsio_buf_data(buf), (Py_ssize_t)lsio_buf_len(buf));
    lsio_buf_release(buf);
    return r;
}

/* An object that is not there: no such file, or a path through a file,
 * or a directory (not an object). */
static int is_missing(int rc) { return rc == -ENOENT || rc == -ENOTDIR || rc == -EISDIR; }

/* get_many(locations) -> list: bytes per location, None where missing. */
static PyObject *backend_get_many(LsioBackend *b, PyObject *arg)
{
    PyObject *seq = PySequence_Fast(arg, "get_many: expected a sequence of str");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *out = PyList_New(n);
    lsio_cq *cq = NULL;
    int rc = 0;
    Py_ssize_t submitted = 0, done = 0;
    char *first_err = NULL;
    int first_rc = 0;
    if (!out)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(Py_None);
        PyList_SET_ITEM(out, i, Py_None);
    }
    if (n == 0)
        goto end;
    if ((rc = lsio_cq_create(&cq)) < 0) {
        lsio_py_raise(rc, "get_many");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *loc = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (!loc)
            break;
        lsio_range r = {.offset = 0, .length = LSIO_TO_END, .dest = NULL, .user_data = (uint64_t)i};
        Py_BEGIN_ALLOW_THREADS
        rc = lsio_get_ranges(b->io, cq, loc, &r, 1, 0);
        Py_END_ALLOW_THREADS
        if (rc < 0) {
            lsio_py_raise(rc, loc);
            break;
        }
        submitted++;
    }
    /* drain everything submitted, even after an error */
    while (done < submitted) {
        lsio_completion c[64];
        int got;
        Py_BEGIN_ALLOW_THREADS
        got = lsio_cq_wait(cq, c, 64, -1);
        Py_END_ALLOW_THREADS
        if (got < 0) {
            /* cannot happen with a valid queue; do not destroy it while
             * ranges may still arrive */
            cq = NULL;
            if (!PyErr_Occurred())
                lsio_py_raise(got, "get_many: waiting for completions");
            goto fail;
        }
        for (int k = 0; k < got; k++) {
            lsio_completion *cp = &c[k];
            if (cp->status == 0 && !PyErr_Occurred() && !first_rc) {
                PyObject *bytes = PyBytes_FromStringAndSize(cp->data, (Py_ssize_t)cp->len);
                if (bytes)
                    PyList_SetItem(out, (Py_ssize_t)cp->user_data, bytes);
            } else if (cp->status < 0 && !is_missing(cp->status) && !first_rc) {
                first_rc = cp->status;
                first_err = cp->error ? strdup(cp->error) : NULL;
            }
            lsio_completion_release(cp);
        }
        done += got;
    }
    if (PyErr_Occurred())
        goto fail;
    if (first_rc) {
        if (first_err)
            lsio_py_raise_msg(first_rc, first_err);
        else
            lsio_py_raise(first_rc, "get_many");
        goto fail;
    }
end:
    lsio_cq_destroy(cq);
    free(first_err);
    Py_DECREF(seq);
    return out;
fail:
    if (cq)
        lsio_cq_destroy(cq);
    free(first_err);
    Py_DECREF(seq);
    Py_XDECREF(out);
    return NULL;
}

static PyObject *backend_size(LsioBackend *b, PyObject *arg)
{
    const char *loc = PyUnicode_AsUTF8(arg);
    if (!loc)
        return NULL;
    uint64_t size = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lsio_io_size(b->io, loc, &size);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return lsio_py_raise(rc, loc);
    return PyLong_FromUnsignedLongLong(size);
}

typedef struct {
    char **locs;
    uint64_t *sizes;
    size_t n, cap;
    int oom;
} list_acc;

static int list_one(void *ctx, const char *location, uint64_t size)
{
    list_acc *a = ctx;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        char **l = realloc(a->locs, cap * sizeof *l);
        if (l)
            a->locs = l;
        uint64_t *s = l ? realloc(a->sizes, cap * sizeof *s) : NULL;
        if (s)
            a->sizes = s;
        if (!l || !s) {
            a->oom = 1;
            return 1;
        }
        a->cap = cap;
    }
    if (!(a->locs[a->n] = strdup(location))) {
        a->oom = 1;
        return 1;
    }
    a->sizes[a->n++] = size;
    return 0;
}

/* list(prefix) -> list of (location, size) of the objects under prefix. */
static PyObject *backend_list(LsioBackend *b, PyObject *arg)
{
    const char *prefix = PyUnicode_AsUTF8(arg);
    if (!prefix)
        return NULL;
    list_acc acc = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lsio_list(b->io, prefix, list_one, &acc);
    Py_END_ALLOW_THREADS
    PyObject *out = NULL;
    if (acc.oom)
        PyErr_NoMemory();
    else if (rc < 0 && rc != -ENOENT)
        lsio_py_raise(rc, prefix);
    else if ((out = PyList_New((Py_ssize_t)acc.n)))
        for (size_t i = 0; i < acc.n; i++) {
            PyObject *t = Py_BuildValue("(sK)", acc.locs[i], (unsigned long long)acc.sizes[i]);
            if (!t) {
                Py_CLEAR(out);
                break;
            }
            PyList_SET_ITEM(out, (Py_ssize_t)i, t);
        }
    for (size_t i = 0; i < acc.n; i++)
        free(acc.locs[i]);
    free(acc.locs);
    free(acc.sizes);
    return out;
}

static PyObject *backend_get_name(LsioBackend *b, void *c)
{
    (void)c;
    return PyUnicode_FromString(lsio_io_backend_name(b->io));
}

static PyObject *backend_get_url(LsioBackend *b, void *c)
{
    (void)c;
    Py_INCREF(b->url);
    return b->url;
}

static PyObject *backend_get_options(LsioBackend *b, void *c)
{
    (void)c;
    return PyDict_Copy(b->kwargs);
}

static PyObject *backend_stats(LsioBackend *b, PyObject *unused)
{
    (void)unused;
    lsio_io_stats st;
    lsio_io_stats_get(b->io, &st);
    return Py_BuildValue("{sKsKsKsKsKsK}", "ranges", (unsigned long long)st.ranges, "requests",
                         (unsigned long long)st.requests, "bytes", (unsigned long long)st.bytes,
                         "errors", (unsigned long long)st.errors, "retries",
                         (unsigned long long)st.retries, "direct_reads",
                         (unsigned long long)st.direct_reads);
}

static PyMethodDef backend_methods[] = {
    {"get", (PyCFunction)backend_get, METH_O,
     "get(location) -> bytes\n\nRead a whole object. FileNotFoundError when it is missing."},
    {"get_many", (PyCFunction)backend_get_many, METH_O,
     "get_many(locations) -> list\n\nRead many whole objects in one submission; the list holds "
     "bytes per location, None where the object is missing."},
    {"size", (PyCFunction)backend_size, METH_O,
     "size(location) -> int\n\nSize of an object in bytes (FileNotFoundError if missing)."},
    {"list", (PyCFunction)backend_list, METH_O,
     "list(prefix) -> list of (location, size)\n\nEvery object whose location starts with "
     "prefix."},
    {"stats", (PyCFunction)backend_stats, METH_NOARGS,
     "stats() -> dict\n\nCounters of the backend (ranges, requests, bytes, errors, ...)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef backend_getset[] = {
    {"name", (getter)backend_get_name, NULL, "The backend in use: uring, posix, http or s3.", NULL},
    {"url", (getter)backend_get_url, NULL, "The location this backend was opened for.", NULL},
    {"options", (getter)backend_get_options, NULL, "The keyword options it was opened with.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject LsioBackend_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lsio._lsio.Backend",
    .tp_basicsize = sizeof(LsioBackend),
    .tp_dealloc = (destructor)backend_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An open LSIO IO backend (io_uring, POSIX, HTTP or S3), shared by the arrays "
              "and groups opened through it. Made by lsio._lsio.backend(url, **options).",
    .tp_methods = backend_methods,
    .tp_getset = backend_getset,
};
