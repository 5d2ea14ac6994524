/*
 * _lsio.c — the lsio._lsio extension module: its functions (open_array,
 * open_group, backend), the mapping of LSIO errors to Python exceptions, and
 * module set-up. The types live in _backend.c (open stores, raw reads for
 * lsio.zarr.Store), _array.c (arrays: indexing, read, read_many) and
 * _group.c (groups). See _lsio.h for how their lifetimes fit together.
 */
#define LSIO_PY_MAIN
#include "_lsio.h"

#include <errno.h>
#include <string.h>

PyObject *lsio_py_Error;
PyObject *lsio_py_json_loads;

PyObject *lsio_py_json(const char *text)
{
    return PyObject_CallFunction(lsio_py_json_loads, "s", text ? text : "null");
}

PyObject *lsio_py_raise_msg(int rc, const char *msg)
{
    PyObject *type;
    if (rc == -ENOENT)
        type = PyExc_FileNotFoundError;
    else if (rc == -LSIO_ESELECTION || rc == -EINVAL)
        type = PyExc_ValueError;
    else if (rc == -ENOMEM)
        type = PyExc_MemoryError;
    else
        type = lsio_py_Error;
    PyObject *exc = PyObject_CallFunction(type, "s", msg);
    if (!exc)
        return NULL;
    if (type != PyExc_ValueError && type != PyExc_MemoryError) {
        PyObject *e = PyLong_FromLong(-rc);
        if (!e || PyObject_SetAttrString(exc, "errno", e) < 0) {
            Py_XDECREF(e);
            Py_DECREF(exc);
            return NULL;
        }
        Py_DECREF(e);
    }
    PyObject *code = PyUnicode_FromString(lsio_strerror(rc));
    if (!code || PyObject_SetAttrString(exc, "code", code) < 0) {
        Py_XDECREF(code);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(code);
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *lsio_py_raise(int rc, const char *what)
{
    const char *last = lsio_last_error();
    if (last && *last)
        return lsio_py_raise_msg(rc, last);
    PyObject *m = PyUnicode_FromFormat("%s: %s", what ? what : "lsio", lsio_strerror(rc));
    if (!m)
        return NULL;
    PyObject *r = lsio_py_raise_msg(rc, PyUnicode_AsUTF8(m));
    Py_DECREF(m);
    return r;
}

/* ---------------------------------------------------------------- functions */

static PyObject *mod_open_array(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    PyObject *url;
    if (!PyArg_ParseTuple(args, "U:open", &url))
        return NULL;
    const char *u = PyUnicode_AsUTF8(url);
    if (!u)
        return NULL;
    LsioBackend *b = lsio_py_backend_open(url, kwargs);
    if (!b)
        return NULL;
    void *a = NULL;
    if (lsio_py_open_over(b, u, lsio_py_open_array, &a) < 0) {
        Py_DECREF(b);
        return NULL;
    }
    PyObject *r = lsio_py_array_new(a, b);
    Py_DECREF(b);
    return r;
}

static PyObject *mod_open_group(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    PyObject *url;
    if (!PyArg_ParseTuple(args, "U:open_group", &url))
        return NULL;
    LsioBackend *b = lsio_py_backend_open(url, kwargs);
    if (!b)
        return NULL;
    PyObject *r = lsio_py_group_new(url, b);
    Py_DECREF(b);
    return r;
}

static PyObject *mod_backend(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    PyObject *url;
    if (!PyArg_ParseTuple(args, "U:backend", &url))
        return NULL;
    return (PyObject *)lsio_py_backend_open(url, kwargs);
}

static PyObject *mod_strerror(PyObject *self, PyObject *arg)
{
    (void)self;
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(lsio_strerror((int)v));
}

static PyObject *mod_empty(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *shape;
    PyArray_Descr *descr = NULL;
    if (!PyArg_ParseTuple(args, "OO&:empty", &shape, PyArray_DescrConverter, &descr))
        return NULL;
    npy_intp dims[NPY_MAXDIMS];
    PyObject *seq = PySequence_Fast(shape, "empty: shape must be a sequence of ints");
    if (!seq) {
        Py_DECREF(descr);
        return NULL;
    }
    Py_ssize_t nd = PySequence_Fast_GET_SIZE(seq);
    if (nd > NPY_MAXDIMS) {
        Py_DECREF(seq);
        Py_DECREF(descr);
        return PyErr_Format(PyExc_ValueError, "empty: %zd dimensions", nd);
    }
    for (Py_ssize_t i = 0; i < nd; i++) {
        dims[i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(seq, i));
        if (dims[i] < 0) {
            Py_DECREF(seq);
            Py_DECREF(descr);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "empty: negative dimension");
            return NULL;
        }
    }
    Py_DECREF(seq);
    if (descr->elsize == 0 || PyDataType_REFCHK(descr)) {
        Py_DECREF(descr);
        return PyErr_Format(PyExc_ValueError, "empty: dtype of fixed size without objects wanted");
    }
    size_t n = (size_t)descr->elsize;
    for (Py_ssize_t i = 0; i < nd; i++)
        if (dims[i] && n > SIZE_MAX / 2 / (size_t)dims[i]) {
            Py_DECREF(descr);
            return PyErr_NoMemory();
        } else {
            n *= (size_t)dims[i];
        }
    return (PyObject *)lsio_py_empty(descr, (int)nd, dims, NULL); /* takes descr */
}

static PyMethodDef mod_methods[] = {
    {"open_array", (PyCFunction)(void (*)(void))mod_open_array, METH_VARARGS | METH_KEYWORDS,
     "open_array(url, **options) -> Array\n\nOpen the Zarr array at url (see lsio.open)."},
    {"open_group", (PyCFunction)(void (*)(void))mod_open_group, METH_VARARGS | METH_KEYWORDS,
     "open_group(url, **options) -> Group\n\nOpen the Zarr group at url (see lsio.open_group)."},
    {"backend", (PyCFunction)(void (*)(void))mod_backend, METH_VARARGS | METH_KEYWORDS,
     "backend(url, **options) -> Backend\n\nOpen the IO backend that serves url (raw reads)."},
    {"buffer_cache", (PyCFunction)(void (*)(void))lsio_py_buffer_cache,
     METH_VARARGS | METH_KEYWORDS,
     "buffer_cache(limit=None) -> dict\n\n"
     "The memory of large results (4 MiB and more) dropped by the program is\n"
     "kept for the next results of about its size (no page faults, no zeroing),\n"
     "up to limit bytes. All but the newest kept one are madvise(MADV_FREE)d, so\n"
     "that the kernel can take them back under memory pressure; the newest is\n"
     "left as it is, for a loop that takes it straight back. limit (bytes; 0 turns the cache off) sets the\n"
     "bound; the default is $LSIO_BUFFER_CACHE, else an eighth of the physical\n"
     "memory, at most 4 GiB. Returns limit, cached_bytes, cached (mappings kept),\n"
     "hits and misses."},
    {"empty", mod_empty, METH_VARARGS,
     "empty(shape, dtype) -> numpy.ndarray\n\n"
     "An uninitialised C-order array, as numpy.empty, whose memory comes from\n"
     "the buffer cache when it is 4 MiB or more (see buffer_cache): for\n"
     "outputs a loop allocates again and again (lsio.ml batches)."},
    {"strerror", mod_strerror, METH_O,
     "strerror(code) -> str\n\nThe name of an LSIO error code (negative errno or LSIO_E*)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT, "lsio._lsio",
    "The C core of lsio: Zarr arrays and groups read by the LSIO C library.", -1, mod_methods,
    NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *m, PyTypeObject *t, const char *name)
{
    if (PyType_Ready(t) < 0)
        return -1;
    Py_INCREF(t);
    if (PyModule_AddObject(m, name, (PyObject *)t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__lsio(void)
{
    import_array();
    PyObject *m = PyModule_Create(&mod_def);
    if (!m)
        return NULL;
    PyObject *json = PyImport_ImportModule("json");
    if (!json)
        goto fail;
    lsio_py_json_loads = PyObject_GetAttrString(json, "loads");
    Py_DECREF(json);
    if (!lsio_py_json_loads)
        goto fail;
    lsio_py_Error = PyErr_NewExceptionWithDoc(
        "lsio.Error",
        "An error of the LSIO C library that has no closer Python exception "
        "(corrupt data, codec failures, HTTP errors, unsupported features...).\n\n"
        "A subclass of OSError; str() is the C layer's message, which names the "
        "array, chunk key, URL or byte range concerned. Attributes: errno (the "
        "positive error number: an errno value or an LSIO code above 4096) and "
        "code (its name).",
        PyExc_OSError, NULL);
    if (!lsio_py_Error)
        goto fail;
    Py_INCREF(lsio_py_Error);
    if (PyModule_AddObject(m, "Error", lsio_py_Error) < 0) {
        Py_DECREF(lsio_py_Error);
        goto fail;
    }
    if (add_type(m, &LsioBackend_Type, "Backend") < 0 || add_type(m, &LsioArray_Type, "Array") < 0 ||
        add_type(m, &LsioGroup_Type, "Group") < 0)
        goto fail;
    if (PyModule_AddStringConstant(m, "lib_version", lsio_version()) < 0 ||
        PyModule_AddIntConstant(m, "MAX_DIMS", LSIO_ZARR_MAX_DIMS) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
