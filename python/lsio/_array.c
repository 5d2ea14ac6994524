/*
 * _array.c — the Array type of lsio._lsio: one open Zarr array
 * (lsio_zarr_array) with numpy-style indexing.
 *
 * Keys become lsio_selections in _select.c (numpy's semantics exactly).
 * The output numpy array is allocated here (or given by the caller with
 * out=, checked in _select.c) and LSIO decodes straight into its memory
 * with the GIL released: no extra copy.
 * STRING (variable-length UTF-8) arrays read into object arrays of str.
 */
#include "_lsio.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- lifetime */

static PyArray_Descr *descr_for(lsio_dtype d)
{
    char buf[32];
    switch (d.kind) {
    case LSIO_DT_BOOL: snprintf(buf, sizeof buf, "?"); break;
    case LSIO_DT_INT: snprintf(buf, sizeof buf, "i%u", d.size); break;
    case LSIO_DT_UINT: snprintf(buf, sizeof buf, "u%u", d.size); break;
    case LSIO_DT_FLOAT: snprintf(buf, sizeof buf, "f%u", d.size); break;
    case LSIO_DT_COMPLEX: snprintf(buf, sizeof buf, "c%u", d.size); break;
    case LSIO_DT_BYTES: snprintf(buf, sizeof buf, "S%u", d.size); break;
    case LSIO_DT_UNICODE: snprintf(buf, sizeof buf, "U%u", d.size / 4); break;
    case LSIO_DT_STRING: snprintf(buf, sizeof buf, "O"); break;
    default:
        PyErr_Format(lsio_py_Error, "data type kind %d has no numpy equivalent", (int)d.kind);
        return NULL;
    }
    PyObject *s = PyUnicode_FromString(buf);
    if (!s)
        return NULL;
    PyArray_Descr *descr = NULL;
    int ok = PyArray_DescrConverter(s, &descr);
    Py_DECREF(s);
    return ok ? descr : NULL;
}

static void close_array(void *h) { lsio_zarr_close(h); }

static void array_changed(LsioHandle *h)
{
    LsioArray *s = (LsioArray *)h;
    s->info = s->a ? lsio_zarr_get_info(s->a) : NULL;
}

static const lsio_py_kind array_kind = {
    .what = "array", .open = lsio_py_open_array, .close = close_array, .changed = array_changed};

PyObject *lsio_py_array_new(lsio_zarr_array *a, LsioBackend *backend)
{
    LsioArray *s = PyObject_New(LsioArray, &LsioArray_Type);
    if (!s) {
        lsio_zarr_close(a);
        return NULL;
    }
    s->kind = &array_kind;
    s->a = a;
    s->info = lsio_zarr_get_info(a);
    Py_INCREF(backend);
    s->backend = backend;
    s->busy = 0;
    s->closed = 0;
    s->attrs = s->codecs = NULL;
    s->is_string = s->info->dtype.kind == LSIO_DT_STRING;
    s->itemsize = lsio_zarr_itemsize(a);
    s->url = PyUnicode_FromString(s->info->url ? s->info->url : "");
    s->descr = descr_for(s->info->dtype);
    if (!s->url || !s->descr) {
        Py_DECREF(s);
        return NULL;
    }
    if (!s->is_string && (size_t)s->descr->elsize != s->itemsize) {
        PyErr_Format(lsio_py_Error, "array %s: element size %zu does not match numpy's %d",
                     s->info->url, s->itemsize, (int)s->descr->elsize);
        Py_DECREF(s);
        return NULL;
    }
    return (PyObject *)s;
}

static void array_dealloc(LsioArray *s)
{
    lsio_py_release((LsioHandle *)s);
    Py_XDECREF(s->descr);
    Py_XDECREF(s->attrs);
    Py_XDECREF(s->codecs);
    Py_XDECREF(s->url);
    PyObject_Free(s);
}

static int check_open(LsioArray *s) { return lsio_py_check_open((LsioHandle *)s); }

lsio_pool *lsio_py_array_pool(const LsioArray *s)
{
    return s->backend && s->backend->pool ? s->backend->pool : lsio_pool_default();
}
/* Bracket a call made without the GIL: the handle stays until leave(). */
static int enter(LsioArray *s) { return lsio_py_enter((LsioHandle *)s); }
static void leave(LsioArray *s) { lsio_py_leave((LsioHandle *)s); }

/* ----------------------------------------------------------------- reads */

/* Read sel into o (STRING arrays: an object array). Needs enter(). */
static int read_strings_into(LsioArray *s, const lsio_selection *sel, PyArrayObject *o)
{
    uint64_t *off = NULL, count = 0;
    char *bytes = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lsio_zarr_read_strings(s->a, sel, &off, &bytes, &count);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        lsio_py_raise(rc, PyUnicode_AsUTF8(s->url));
        return -1;
    }
    int ret = 0;
    if ((npy_intp)count != PyArray_SIZE(o)) {
        PyErr_Format(lsio_py_Error, "array %U: %llu strings read for %zd elements", s->url,
                     (unsigned long long)count, (Py_ssize_t)PyArray_SIZE(o));
        ret = -1;
    }
    PyObject **items = (PyObject **)PyArray_DATA(o);
    for (uint64_t i = 0; ret == 0 && i < count; i++) {
        PyObject *u = PyUnicode_DecodeUTF8(bytes + off[i], (Py_ssize_t)(off[i + 1] - off[i]),
                                           "surrogateescape");
        if (!u) {
            ret = -1;
            break;
        }
        PyObject *old = items[i];
        items[i] = u;
        Py_XDECREF(old);
    }
    free(off);
    free(bytes);
    return ret;
}

static int read_into(LsioArray *s, const lsio_selection *sel, PyArrayObject *o, unsigned flags)
{
    if (PyArray_SIZE(o) == 0)
        return 0;
    if (s->is_string)
        return read_strings_into(s, sel, o);
    void *data = PyArray_DATA(o);
    size_t nbytes = (size_t)PyArray_NBYTES(o);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lsio_zarr_read_flags(s->a, sel, data, nbytes, flags);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        lsio_py_raise(rc, PyUnicode_AsUTF8(s->url));
        return -1;
    }
    return 0;
}

static PyObject *read_key(LsioArray *s, PyObject *key, PyObject *out, unsigned flags)
{
    if (enter(s) < 0)
        return NULL;
    lsio_selection sel;
    PyArrayObject *o = NULL;
    if (lsio_py_key_to_sel(s, key, &sel) == 0 && (o = lsio_py_output_for(s, &sel, out)) && read_into(s, &sel, o, flags) < 0)
        Py_CLEAR(o);
    leave(s);
    return (PyObject *)o;
}

static PyObject *array_subscript(LsioArray *s, PyObject *key)
{
    if (PyUnicode_Check(key)) {
        PyErr_SetString(PyExc_IndexError, "an lsio array cannot be indexed by a str "
                                          "(use read(\"0:10, :\") for text selections)");
        return NULL;
    }
    return read_key(s, key, NULL, 0);
}

static PyObject *array_read(LsioArray *s, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"selection", "out", "mask_fill", NULL};
    PyObject *key = Py_None, *out = Py_None;
    int mask = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO$p:read", kw, &key, &out, &mask))
        return NULL;
    return read_key(s, key, out, mask ? LSIO_ZARR_MASK_FILL : 0);
}

/* The outputs of read_many without outs: views into one allocation rather
 * than n of them. Fresh memory costs a page fault per 4 KiB page, which
 * dominates many small reads; one large block is backed by huge pages
 * and, from 4 MiB, recycled (_bufcache.c) when the last view goes. */
static int shared_outputs(LsioArray *s, const lsio_selection *sels, Py_ssize_t n,
                          PyObject *result)
{
    npy_intp dims[LSIO_ZARR_MAX_DIMS], total = 0;
    const npy_intp align = 64;
    for (Py_ssize_t i = 0; i < n; i++) {
        lsio_py_sel_dims(&sels[i], dims);
        npy_intp bytes = (npy_intp)lsio_selection_count(&sels[i]) * s->descr->elsize;
        total += (bytes + align - 1) / align * align;
    }
    PyArrayObject *block =
        lsio_py_empty(PyArray_DescrFromType(NPY_UINT8), 1, &total, lsio_py_array_pool(s));
    if (!block)
        return -1;
    char *base = PyArray_DATA(block);
    npy_intp off = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned nd = lsio_py_sel_dims(&sels[i], dims);
        npy_intp bytes = (npy_intp)lsio_selection_count(&sels[i]) * s->descr->elsize;
        Py_INCREF(s->descr);
        PyObject *v = PyArray_NewFromDescr(&PyArray_Type, s->descr, (int)nd, dims, NULL,
                                           base + off, NPY_ARRAY_CARRAY, NULL);
        if (!v) {
            Py_DECREF(block);
            return -1;
        }
        Py_INCREF(block);
        if (PyArray_SetBaseObject((PyArrayObject *)v, (PyObject *)block) < 0) {
            Py_DECREF(v);
            Py_DECREF(block);
            return -1;
        }
        PyList_SET_ITEM(result, i, v);
        off += (bytes + align - 1) / align * align;
    }
    Py_DECREF(block);
    return 0;
}

static PyObject *array_read_many(LsioArray *s, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"selections", "outs", "io_group", NULL};
    PyObject *keys, *outs_arg = Py_None;
    unsigned long long io_group = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O$K:read_many", kw, &keys, &outs_arg,
                                     &io_group))
        return NULL;
    if (io_group > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "read_many: io_group must be below 2**32");
        return NULL;
    }
    if (enter(s) < 0)
        return NULL;
    PyObject *seq = NULL, *oseq = NULL, *result = NULL;
    lsio_selection *sels = NULL, *live = NULL;
    void **ptrs = NULL;
    size_t *sizes = NULL;
    if (!(seq = PySequence_Fast(keys, "read_many: selections must be a sequence")))
        goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (outs_arg != Py_None) {
        if (!(oseq = PySequence_Fast(outs_arg, "read_many: outs must be a sequence")))
            goto done;
        if (PySequence_Fast_GET_SIZE(oseq) != n) {
            PyErr_Format(PyExc_ValueError, "read_many: %zd outs for %zd selections",
                         PySequence_Fast_GET_SIZE(oseq), n);
            goto done;
        }
    }
    size_t alloc = n > 0 ? (size_t)n : 1;
    sels = PyMem_Malloc(alloc * sizeof *sels);
    live = PyMem_Malloc(alloc * sizeof *live);
    ptrs = PyMem_Malloc(alloc * sizeof *ptrs);
    sizes = PyMem_Malloc(alloc * sizeof *sizes);
    if (!sels || !live || !ptrs || !sizes || !(result = PyList_New(n))) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    size_t nlive = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (lsio_py_key_to_sel(s, PySequence_Fast_GET_ITEM(seq, i), &sels[i]) < 0)
            goto fail;
    if (!oseq && !s->is_string && shared_outputs(s, sels, n, result) < 0)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyArrayObject *o;
        if (!oseq && !s->is_string) {
            o = (PyArrayObject *)PyList_GET_ITEM(result, i);
        } else {
            o = lsio_py_output_for(s, &sels[i], oseq ? PySequence_Fast_GET_ITEM(oseq, i) : NULL);
            if (!o)
                goto fail;
            PyList_SET_ITEM(result, i, (PyObject *)o);
        }
        if (PyArray_SIZE(o) > 0) {
            live[nlive] = sels[i];
            ptrs[nlive] = PyArray_DATA(o);
            sizes[nlive++] = (size_t)PyArray_NBYTES(o);
        }
    }
    if (s->is_string) {
        for (Py_ssize_t i = 0; i < n; i++)
            if (read_into(s, &sels[i], (PyArrayObject *)PyList_GET_ITEM(result, i), 0) < 0)
                goto fail;
    } else if (nlive > 0) {
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = lsio_zarr_read_many_group(s->a, live, nlive, ptrs, sizes, (uint32_t)io_group);
        Py_END_ALLOW_THREADS
        if (rc < 0) {
            lsio_py_raise(rc, PyUnicode_AsUTF8(s->url));
            goto fail;
        }
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    PyMem_Free(sels);
    PyMem_Free(live);
    PyMem_Free(ptrs);
    PyMem_Free(sizes);
    Py_XDECREF(seq);
    Py_XDECREF(oseq);
    leave(s);
    return result;
}

static PyObject *array_array(LsioArray *s, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"dtype", "copy", NULL};
    PyObject *dtype = Py_None, *copy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:__array__", kw, &dtype, &copy))
        return NULL;
    PyObject *a = read_key(s, Py_None, NULL, 0);
    if (!a || dtype == Py_None)
        return a;
    PyObject *r = PyObject_CallMethod(a, "astype", "O", dtype);
    Py_DECREF(a);
    return r;
}

static PyObject *array_stats(LsioArray *s, PyObject *unused)
{
    (void)unused;
    if (check_open(s) < 0)
        return NULL;
    lsio_zarr_stats st;
    lsio_zarr_stats_get(s->a, &st);
    return Py_BuildValue("{sKsKsKsKsK}", "chunks_read", (unsigned long long)st.chunks_read,
                         "chunks_missing", (unsigned long long)st.chunks_missing, "bytes_read",
                         (unsigned long long)st.bytes_read, "bytes_decoded",
                         (unsigned long long)st.bytes_decoded, "chunks_direct",
                         (unsigned long long)st.chunks_direct);
}

static PyObject *array_reduce(LsioArray *s, PyObject *unused)
{
    (void)unused;
    if (check_open(s) < 0)
        return NULL;
    PyObject *mod = PyImport_ImportModule("lsio");
    PyObject *fn = mod ? PyObject_GetAttrString(mod, "_reopen") : NULL;
    Py_XDECREF(mod);
    if (!fn)
        return NULL;
    PyObject *r = Py_BuildValue("(O(OO))", fn, s->url, s->backend->kwargs);
    Py_DECREF(fn);
    return r;
}


/* ------------------------------------------------------------ attributes */

static PyObject *u64_tuple(unsigned n, const uint64_t *v)
{
    PyObject *t = PyTuple_New(n);
    for (unsigned i = 0; t && i < n; i++) {
        PyObject *x = PyLong_FromUnsignedLongLong(v[i]);
        if (!x) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, x);
    }
    return t;
}

static PyObject *get_shape(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return u64_tuple(s->info->ndim, s->info->shape);
}

static PyObject *get_chunks(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return u64_tuple(s->info->ndim, s->info->chunks);
}

static PyObject *get_shards(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    if (s->info->ndim == 0 || s->info->shards[0] == 0)
        Py_RETURN_NONE;
    return u64_tuple(s->info->ndim, s->info->shards);
}

static PyObject *get_dtype(LsioArray *s, void *c)
{
    (void)c;
    Py_INCREF(s->descr);
    return (PyObject *)s->descr;
}

static PyObject *get_ndim(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(s->info->ndim);
}

static uint64_t n_elements(const LsioArray *s)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < s->info->ndim; i++)
        n *= s->info->shape[i];
    return n;
}

static PyObject *get_size(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(n_elements(s));
}

static PyObject *get_nbytes(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(n_elements(s) * (uint64_t)s->descr->elsize);
}

static PyObject *get_nchunks(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(s->info->nchunks);
}

static PyObject *get_url(LsioArray *s, void *c)
{
    (void)c;
    Py_INCREF(s->url);
    return s->url;
}

static PyObject *get_zarr_format(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyLong_FromLong(s->info->zarr_format);
}

static PyObject *get_order(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyUnicode_FromString(s->info->fortran_order ? "F" : "C");
}

static PyObject *get_attrs(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    if (!s->attrs && !(s->attrs = lsio_py_json(s->info->attrs_json ? s->info->attrs_json : "{}")))
        return NULL;
    /* a copy: callers may change what they get */
    return PyDict_Check(s->attrs) ? PyDict_Copy(s->attrs) : (Py_INCREF(s->attrs), s->attrs);
}

static PyObject *get_codecs(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    if (!s->codecs && !(s->codecs = lsio_py_json(s->info->codecs_json)))
        return NULL;
    PyObject *copy = PyImport_ImportModule("copy");
    if (!copy)
        return NULL;
    PyObject *r = PyObject_CallMethod(copy, "deepcopy", "O", s->codecs);
    Py_DECREF(copy);
    return r;
}

static PyObject *get_fill_value(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    const char *fj = s->info->fill_value_json;
    if (!fj || !strcmp(fj, "null"))
        Py_RETURN_NONE;
    if (s->is_string)
        return lsio_py_json(fj);
    void *buf = PyMem_Calloc(1, s->itemsize ? s->itemsize : 1);
    if (!buf)
        return PyErr_NoMemory();
    lsio_zarr_fill_value(s->a, buf);
    PyObject *r = PyArray_Scalar(buf, s->descr, NULL);
    PyMem_Free(buf);
    return r;
}

static PyObject *get_dimension_names(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    unsigned nd = s->info->ndim;
    int any = 0;
    for (unsigned i = 0; i < nd; i++)
        any |= s->info->dimension_names[i] != NULL;
    if (!any)
        Py_RETURN_NONE;
    PyObject *t = PyTuple_New(nd);
    for (unsigned i = 0; t && i < nd; i++) {
        const char *nm = s->info->dimension_names[i];
        PyObject *x = nm ? PyUnicode_FromString(nm) : (Py_INCREF(Py_None), Py_None);
        if (!x) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, x);
    }
    return t;
}

static PyObject *get_backend(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyUnicode_FromString(lsio_io_backend_name(s->backend->io));
}

static PyObject *get_options(LsioArray *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyDict_Copy(s->backend->kwargs);
}

static Py_ssize_t array_len(LsioArray *s)
{
    if (check_open(s) < 0)
        return -1;
    if (s->info->ndim == 0) {
        PyErr_SetString(PyExc_TypeError, "len() of a 0-d lsio array");
        return -1;
    }
    return (Py_ssize_t)s->info->shape[0];
}

static PyObject *array_repr(LsioArray *s)
{
    if (s->closed || !s->a)
        return PyUnicode_FromFormat("<lsio.Array %R (closed)>", s->url);
    PyObject *shape = get_shape(s, NULL), *chunks = get_chunks(s, NULL);
    PyObject *r = NULL;
    if (shape && chunks)
        r = PyUnicode_FromFormat("<lsio.Array %R shape=%S dtype=%S chunks=%S>", s->url, shape,
                                 (PyObject *)s->descr, chunks);
    Py_XDECREF(shape);
    Py_XDECREF(chunks);
    return r;
}

static PyMethodDef array_methods[] = {
    {"read", (PyCFunction)(void (*)(void))array_read, METH_VARARGS | METH_KEYWORDS,
     "read(selection=None, out=None, *, mask_fill=False) -> numpy.ndarray\n\n"
     "Read a selection: a numpy-style key (int, slice, Ellipsis or a tuple of them), a\n"
     "text selection (\"0:10, :, 5\") or None (everything). With out, the data lands in\n"
     "that array (C-contiguous, writable, of this array's dtype and the selection's\n"
     "shape; TypeError or ValueError otherwise) with no extra copy, and out is returned.\n"
     "mask_fill=True reads elements equal to the fill value as NaN, as xarray's CF\n"
     "masking does, in the same pass as decoding (float32/float64 arrays; ValueError\n"
     "for others). The GIL is released while LSIO reads and decodes."},
    {"read_many", (PyCFunction)(void (*)(void))array_read_many, METH_VARARGS | METH_KEYWORDS,
     "read_many(selections, outs=None, *, io_group=0) -> list of numpy.ndarray\n\n"
     "Read several selections in one submission: every chunk they need is fetched and\n"
     "decoded once, even where they overlap. outs, when given, holds one output array per\n"
     "selection (checked as in read). Without outs, the results are views into one\n"
     "allocation (far fewer page faults), which lives as long as any of them.\n"
     "io_group (0 to 2**32-1) puts every byte range of this read in that IO group of the\n"
     "array's IO handle: a read in group n+1 started (in another thread) while one in\n"
     "group n runs waits until group n's queued IO is done, so a prefetch queues behind\n"
     "the read needed now. Use non-decreasing ids per array; 0 is the default of\n"
     "every other read."},
    {"close", (PyCFunction)lsio_py_close, METH_NOARGS,
     "close()\n\nRelease the array (at once, or when reads in progress in other threads\n"
     "return). Later operations raise ValueError. Closing twice is harmless."},
    {"stats", (PyCFunction)array_stats, METH_NOARGS,
     "stats() -> dict\n\nCounters of the reads made through this array: chunks_read,\n"
     "chunks_missing (read as the fill value), bytes_read, bytes_decoded,\n"
     "chunks_direct (decoded straight into the output, no copy after)."},
    {"__enter__", (PyCFunction)lsio_py_ctx_enter, METH_NOARGS, "Context manager: returns self."},
    {"__exit__", (PyCFunction)lsio_py_ctx_exit, METH_VARARGS, "Context manager: closes the array."},
    {"__array__", (PyCFunction)(void (*)(void))array_array, METH_VARARGS | METH_KEYWORDS,
     "__array__(dtype=None) -> numpy.ndarray\n\nThe whole array (np.asarray(a))."},
    {"__reduce__", (PyCFunction)array_reduce, METH_NOARGS,
     "Pickling reopens the array by URL with the same options."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef array_getset[] = {
    {"shape", (getter)get_shape, NULL, "Shape of the array (tuple of int).", NULL},
    {"dtype", (getter)get_dtype, NULL,
     "numpy dtype of what reads return, in native byte order (object for variable-length "
     "strings).",
     NULL},
    {"chunks", (getter)get_chunks, NULL,
     "Chunk shape: the read unit (the inner chunks of a sharded array).", NULL},
    {"shards", (getter)get_shards, NULL, "Shard shape of a sharded v3 array, else None.", NULL},
    {"ndim", (getter)get_ndim, NULL, "Number of dimensions.", NULL},
    {"size", (getter)get_size, NULL, "Number of elements.", NULL},
    {"nbytes", (getter)get_nbytes, NULL, "Bytes of the whole array once decoded.", NULL},
    {"nchunks", (getter)get_nchunks, NULL,
     "Chunks in the grid (stored objects: shards when sharded).", NULL},
    {"attrs", (getter)get_attrs, NULL, "User attributes (a new dict).", NULL},
    {"codecs", (getter)get_codecs, NULL,
     "Codecs as the metadata says: the v3 codecs list, or {compressor, filters} for v2.", NULL},
    {"fill_value", (getter)get_fill_value, NULL,
     "The fill value (a numpy scalar), or None where the metadata has none.", NULL},
    {"zarr_format", (getter)get_zarr_format, NULL, "2 or 3.", NULL},
    {"order", (getter)get_order, NULL,
     "Storage order of chunks, 'C' or 'F' (reads are always C order).", NULL},
    {"dimension_names", (getter)get_dimension_names, NULL,
     "v3 dimension_names (tuple with None where unnamed), or None.", NULL},
    {"url", (getter)get_url, NULL, "The array's location.", NULL},
    {"closed", (getter)lsio_py_get_closed, NULL, "True once close() was called.", NULL},
    {"backend", (getter)get_backend, NULL, "IO backend in use: uring, posix, http or s3.", NULL},
    {"options", (getter)get_options, NULL, "The keyword options it was opened with.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods array_as_mapping = {
    .mp_length = (lenfunc)array_len,
    .mp_subscript = (binaryfunc)array_subscript,
};

PyTypeObject LsioArray_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lsio.Array",
    .tp_basicsize = sizeof(LsioArray),
    .tp_dealloc = (destructor)array_dealloc,
    .tp_repr = (reprfunc)array_repr,
    .tp_as_mapping = &array_as_mapping,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A Zarr array read by LSIO (made by lsio.open or Group[name]).\n\n"
              "a[key] reads with numpy semantics (ints, slices with steps, negative indices,\n"
              "Ellipsis) into a new numpy array; an all-int key gives a 0-d array. Reads\n"
              "release the GIL, so threads read in parallel. Use as a context manager or\n"
              "call close().",
    .tp_methods = array_methods,
    .tp_getset = array_getset,
};
