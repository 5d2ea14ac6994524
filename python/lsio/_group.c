/*
 * _group.c — the Group type of lsio._lsio: one open Zarr group
 * (lsio_zarr_group) over a shared Backend. Members come from consolidated
 * metadata when the group has it, else from a listing (the C layer decides).
 * group[name] opens a member array (from the consolidated copy of its
 * metadata when there is one) or a subgroup, both over the same backend;
 * nested names ("a/b") work; a name that is not there raises KeyError.
 */
#include "_lsio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void close_group(void *h) { lsio_zarr_group_close(h); }

/* members and attributes stay as read when reopened after a fork */
static const lsio_py_kind group_kind = {
    .what = "group", .open = lsio_py_open_group, .close = close_group, .changed = NULL};

PyObject *lsio_py_group_new(PyObject *url, LsioBackend *backend)
{
    const char *u = PyUnicode_AsUTF8(url);
    if (!u)
        return NULL;
    void *h = NULL;
    if (lsio_py_open_over(backend, u, lsio_py_open_group, &h) < 0)
        return NULL;
    lsio_zarr_group *g = h;
    LsioGroup *s = PyObject_New(LsioGroup, &LsioGroup_Type);
    if (!s) {
        lsio_zarr_group_close(g);
        return NULL;
    }
    s->kind = &group_kind;
    s->g = g;
    Py_INCREF(backend);
    s->backend = backend;
    Py_INCREF(url);
    s->url = url;
    s->attrs = NULL;
    s->busy = 0;
    s->closed = 0;
    size_t n = lsio_zarr_group_count(g);
    s->members = PyTuple_New((Py_ssize_t)n);
    s->kinds = PyTuple_New((Py_ssize_t)n);
    if (!s->members || !s->kinds) {
        Py_DECREF(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *nm = PyUnicode_FromString(lsio_zarr_group_name(g, i));
        PyObject *k = PyUnicode_FromString(
            lsio_zarr_group_kind(g, i) == LSIO_ZARR_GROUP ? "group" : "array");
        if (!nm || !k) {
            Py_XDECREF(nm);
            Py_XDECREF(k);
            Py_DECREF(s);
            return NULL;
        }
        PyTuple_SET_ITEM(s->members, (Py_ssize_t)i, nm);
        PyTuple_SET_ITEM(s->kinds, (Py_ssize_t)i, k);
    }
    return (PyObject *)s;
}

static void group_dealloc(LsioGroup *s)
{
    lsio_py_release((LsioHandle *)s);
    Py_XDECREF(s->url);
    Py_XDECREF(s->members);
    Py_XDECREF(s->kinds);
    Py_XDECREF(s->attrs);
    PyObject_Free(s);
}

static int check_open(LsioGroup *s) { return lsio_py_check_open((LsioHandle *)s); }

/* What name is: its index in members (or -1) and its kind (MISSING when
 * absent). Nested names are probed in the store. -1 with an exception. */
static int member_kind(LsioGroup *s, PyObject *name, lsio_zarr_node *kind)
{
    *kind = LSIO_ZARR_MISSING;
    Py_ssize_t n = PyTuple_GET_SIZE(s->members);
    for (Py_ssize_t i = 0; i < n; i++) {
        int eq = PyUnicode_Compare(PyTuple_GET_ITEM(s->members, i), name);
        if (eq == -1 && PyErr_Occurred())
            return -1;
        if (eq == 0) {
            *kind = PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(s->kinds, i), "group")
                        ? LSIO_ZARR_ARRAY
                        : LSIO_ZARR_GROUP;
            return 0;
        }
    }
    const char *nm = PyUnicode_AsUTF8(name);
    if (!nm)
        return -1;
    if (!strchr(nm, '/') || nm[0] == '/' || strstr(nm, ".."))
        return 0;
    PyObject *sub = PyUnicode_FromFormat("%U/%s", s->url, nm);
    if (!sub)
        return -1;
    lsio_zarr_opts o;
    lsio_py_backend_opts(s->backend, &o);
    const char *su = PyUnicode_AsUTF8(sub);
    int fmt = 0, rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lsio_zarr_probe(su, &o, kind, &fmt);
    Py_END_ALLOW_THREADS
    if (rc == -ENOENT) {
        *kind = LSIO_ZARR_MISSING;
        rc = 0;
    }
    if (rc < 0)
        lsio_py_raise(rc, su);
    Py_DECREF(sub);
    return rc < 0 ? -1 : 0;
}

static PyObject *group_subscript(LsioGroup *s, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "group member names are str, not %.100s",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    if (lsio_py_enter((LsioHandle *)s) < 0)
        return NULL;
    lsio_zarr_node kind;
    if (member_kind(s, name, &kind) < 0) {
        lsio_py_leave((LsioHandle *)s);
        return NULL;
    }
    PyObject *r = NULL;
    if (kind == LSIO_ZARR_MISSING) {
        PyErr_SetObject(PyExc_KeyError, name);
    } else if (kind == LSIO_ZARR_GROUP) {
        PyObject *sub = PyUnicode_FromFormat("%U/%U", s->url, name);
        if (sub) {
            r = lsio_py_group_new(sub, s->backend);
            Py_DECREF(sub);
        }
    } else {
        const char *nm = PyUnicode_AsUTF8(name);
        lsio_zarr_array *a = NULL;
        int rc;
        LsioBackend *b = s->backend;
        Py_INCREF(b);
        Py_BEGIN_ALLOW_THREADS
        rc = lsio_zarr_group_open_array(s->g, nm, &a);
        Py_END_ALLOW_THREADS
        if (rc == -ENOENT)
            PyErr_SetObject(PyExc_KeyError, name);
        else if (rc < 0)
            lsio_py_raise(rc, nm);
        else
            r = lsio_py_array_new(a, b);
        Py_DECREF(b);
    }
    lsio_py_leave((LsioHandle *)s);
    return r;
}

static int group_contains(LsioGroup *s, PyObject *name)
{
    if (lsio_py_check_open((LsioHandle *)s) < 0)
        return -1;
    if (!PyUnicode_Check(name))
        return 0;
    if (lsio_py_enter((LsioHandle *)s) < 0)
        return -1;
    lsio_zarr_node kind;
    int rc = member_kind(s, name, &kind);
    lsio_py_leave((LsioHandle *)s);
    return rc < 0 ? -1 : kind != LSIO_ZARR_MISSING;
}

static Py_ssize_t group_len(LsioGroup *s) { return PyTuple_GET_SIZE(s->members); }

static PyObject *group_iter(LsioGroup *s) { return PyObject_GetIter(s->members); }

static PyObject *group_keys(LsioGroup *s, PyObject *unused)
{
    (void)unused;
    return PySequence_List(s->members);
}

static PyObject *get_members(LsioGroup *s, void *c)
{
    (void)c;
    Py_INCREF(s->members);
    return s->members;
}

static PyObject *get_kinds(LsioGroup *s, void *c)
{
    (void)c;
    Py_INCREF(s->kinds);
    return s->kinds;
}

static PyObject *get_attrs(LsioGroup *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    if (!s->attrs && !(s->attrs = lsio_py_json(lsio_zarr_group_attrs(s->g))))
        return NULL;
    return PyDict_Check(s->attrs) ? PyDict_Copy(s->attrs) : (Py_INCREF(s->attrs), s->attrs);
}

static PyObject *get_zarr_format(LsioGroup *s, void *c)
{
    (void)c;
    if (check_open(s) < 0)
        return NULL;
    return PyLong_FromLong(lsio_zarr_group_format(s->g));
}

static PyObject *get_url(LsioGroup *s, void *c)
{
    (void)c;
    Py_INCREF(s->url);
    return s->url;
}

static PyObject *group_repr(LsioGroup *s)
{
    if (s->closed || !s->g)
        return PyUnicode_FromFormat("<lsio.Group %R (closed)>", s->url);
    return PyUnicode_FromFormat("<lsio.Group %R members=%R>", s->url, s->members);
}

static PyObject *group_reduce(LsioGroup *s, PyObject *unused)
{
    (void)unused;
    if (check_open(s) < 0)
        return NULL;
    PyObject *mod = PyImport_ImportModule("lsio");
    PyObject *fn = mod ? PyObject_GetAttrString(mod, "_reopen_group") : NULL;
    Py_XDECREF(mod);
    if (!fn)
        return NULL;
    PyObject *r = Py_BuildValue("(O(OO))", fn, s->url, s->backend->kwargs);
    Py_DECREF(fn);
    return r;
}

static PyMethodDef group_methods[] = {
    {"keys", (PyCFunction)group_keys, METH_NOARGS, "keys() -> list of member names."},
    {"close", (PyCFunction)lsio_py_close, METH_NOARGS,
     "close()\n\nRelease the group (arrays opened from it stay usable). Later operations on the "
     "group raise ValueError."},
    {"__enter__", (PyCFunction)lsio_py_ctx_enter, METH_NOARGS, "Context manager: returns self."},
    {"__exit__", (PyCFunction)lsio_py_ctx_exit, METH_VARARGS, "Context manager: closes the group."},
    {"__reduce__", (PyCFunction)group_reduce, METH_NOARGS,
     "Pickling reopens the group by URL with the same options."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef group_getset[] = {
    {"members", (getter)get_members, NULL, "Names of the direct members, sorted (tuple of str).",
     NULL},
    {"kinds", (getter)get_kinds, NULL,
     "'array' or 'group' for each name of members, in the same order (tuple of str).", NULL},
    {"attrs", (getter)get_attrs, NULL, "User attributes of the group (a new dict).", NULL},
    {"zarr_format", (getter)get_zarr_format, NULL, "2 or 3.", NULL},
    {"url", (getter)get_url, NULL, "The group's location.", NULL},
    {"closed", (getter)lsio_py_get_closed, NULL, "True once close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods group_as_mapping = {
    .mp_length = (lenfunc)group_len,
    .mp_subscript = (binaryfunc)group_subscript,
};

static PySequenceMethods group_as_sequence = {
    .sq_contains = (objobjproc)group_contains,
};

PyTypeObject LsioGroup_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lsio.Group",
    .tp_basicsize = sizeof(LsioGroup),
    .tp_dealloc = (destructor)group_dealloc,
    .tp_repr = (reprfunc)group_repr,
    .tp_as_mapping = &group_as_mapping,
    .tp_as_sequence = &group_as_sequence,
    .tp_iter = (getiterfunc)group_iter,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A Zarr group read by LSIO (made by lsio.open_group or Group[name]).\n\n"
              "group[name] opens a member array or subgroup (nested names like 'a/b' work;\n"
              "KeyError when absent); iterating yields member names. Members share the\n"
              "group's IO backend.",
    .tp_methods = group_methods,
    .tp_getset = group_getset,
};
