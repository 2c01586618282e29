/* SPDX-License-Identifier: MIT */
/*
 * python/src/shmetrics/_native.c - the CPython extension over libshmetrics.
 *
 * Thin by design: argument checks and handles live here, policy (names,
 * prometheus_client compatibility, framework glue) lives in Python. Three
 * objects:
 *   Client   one shmet_client (one namespace); families are made from it.
 *   Family   one shmet_family, with labels(*values, **kw): a dict lookup of
 *            the value tuple, done here so that labels(...).inc() never runs
 *            Python-level code; a miss interns the series (shmet_series_get).
 *   *Series  a child: CounterSeries, GaugeSeries, HistogramSeries, each
 *            holding its struct shmet_series by value; inc()/observe() call
 *            the inline recorders of shmetrics.h directly (METH_FASTCALL).
 *            Children are exactly these types, never Python subclasses:
 *            CPython's fast call of a C method needs the exact type (a
 *            subclass costs ~15 ns a call). The context managers and
 *            decorators (time(), track_inprogress(), count_exceptions())
 *            are C methods that call the Python helpers metrics.py
 *            registers with _set_helpers().
 * The children are in _series.c. The GIL serialises every call here; the client library is thread-safe on
 * its own, and each Python thread records into its own slot.
 */
#include "_native.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include <shmetrics.h>


/* ---- errors -------------------------------------------------------------- */

static PyObject *SegmentError; /* OSError subclass, made in Python-visible form */

/* The exception for a failed setup call: ValueError for a bad argument or
 * a conflicting definition, with shmet_last_error()'s detail (which
 * argument, which rule) when the library gave one; what names the call's
 * object where that detail does not. Read right after the failing call,
 * in the same thread (the GIL is held). */
static PyObject *raise_rc(int rc, const char *what)
{
    const char *detail = shmet_last_error();

    if ((rc == -EINVAL || rc == -EEXIST) && detail[0] != '\0') {
        PyErr_SetString(PyExc_ValueError, detail);
    } else if (rc == -EINVAL) {
        PyErr_Format(PyExc_ValueError, "%s: %s", what, shmet_strerror(rc));
    } else if (rc == -EEXIST) {
        PyErr_Format(PyExc_ValueError,
                     "%s: a metric of this name already exists with another type, labels, "
                     "buckets or mode",
                     what);
    } else if (rc == -ENOMEM) {
        PyErr_NoMemory();
    } else {
        PyObject *args = Py_BuildValue("(is)", -rc, shmet_strerror(rc));
        if (args != NULL) {
            PyErr_SetObject(SegmentError, args);
            Py_DECREF(args);
        }
    }
    return NULL;
}

/* ---- client -------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD struct shmet_client *c;
    PyObject *ns; /* str or None */
} ClientObject;

static PyTypeObject ClientType;

static int client_init(ClientObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"namespace", "slots", "ring_records", "arena_bytes", NULL};
    const char *ns = NULL;
    unsigned int slots = 0, ring = 0, arena = 0;
    struct shmet_options o;
    int rc;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|zIII", names, &ns, &slots, &ring, &arena))
        return -1;
    if (self->c != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Client already open");
        return -1;
    }
    o = (struct shmet_options){.ns = ns, .slots = slots, .ring_records = ring, .arena_bytes = arena};
    /* shmet_last_error() is this OS thread's: still shmet_open's detail
     * after the GIL is taken back. */
    Py_BEGIN_ALLOW_THREADS rc = shmet_open(&o, &self->c);
    Py_END_ALLOW_THREADS if (rc < 0)
    {
        self->c = NULL;
        const char *detail = shmet_last_error();
        if (rc == -EINVAL && detail[0] != '\0') { /* "invalid namespace: namespace 'a/b' ..." */
            PyErr_Format(PyExc_ValueError, "invalid %s: %s",
                         strncmp(detail, "namespace", 9) == 0 ? "namespace" : "geometry", detail);
            return -1;
        }
        if (rc == -EINVAL) {
            PyErr_Format(PyExc_ValueError,
                         "invalid namespace '%s' or geometry (a namespace is 1 to 64 of "
                         "[A-Za-z0-9_.-]; ring_records is a power of two)",
                         ns != NULL ? ns : "(default)");
            return -1;
        }
        raise_rc(rc, "cannot open the shmetrics segment");
        return -1;
    }
    self->ns = ns != NULL ? PyUnicode_FromString(ns) : Py_NewRef(Py_None);
    return self->ns == NULL ? -1 : 0;
}

static void client_dealloc(ClientObject *self)
{
    /* Never closed here: series handles may outlive the object in C
     * structures of other objects; a client lives as long as the process
     * unless close() is called. */
    Py_XDECREF(self->ns);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int need_open(ClientObject *self)
{
    if (self->c != NULL)
        return 0;
    PyErr_SetString(PyExc_ValueError, "the shmetrics client is closed");
    return -1;
}

/* A NULL-terminated array of UTF-8 names from a tuple of str; labels[] and
 * the tuple must outlive the use. */
static int utf8_list(PyObject *tup, const char **out, Py_ssize_t max)
{
    Py_ssize_t n = PyTuple_GET_SIZE(tup);

    if (n > max) {
        PyErr_Format(PyExc_ValueError, "at most %zd labels", max);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        PyObject *s = PyTuple_GET_ITEM(tup, i);
        if (!PyUnicode_Check(s)) {
            PyErr_SetString(PyExc_TypeError, "label names must be str");
            return -1;
        }
        out[i] = PyUnicode_AsUTF8AndSize(s, &len);
        if (out[i] == NULL)
            return -1;
        if ((size_t)len != strlen(out[i])) {
            PyErr_SetString(PyExc_ValueError, "label names may not contain NUL");
            return -1;
        }
    }
    out[n] = NULL;
    return 0;
}

typedef struct {
    PyObject_HEAD ClientObject *client;
    struct shmet_family *f;
    PyObject *labelnames; /* tuple of str */
    PyObject *cache;      /* dict: tuple of str values -> series */
    PyTypeObject *child;  /* the type labels() makes */
    int type;             /* SHMET_TYPE_* */
    int last;             /* a gauge in SHMET_GAUGE_LAST mode */
} FamilyObject;

static PyTypeObject FamilyType;

static PyObject *family_new_from(ClientObject *cl, struct shmet_family *f, PyObject *labelnames,
                                 PyTypeObject *child, int type)
{
    FamilyObject *fo = PyObject_GC_New(FamilyObject, &FamilyType);

    if (fo == NULL)
        return NULL;
    fo->client = (ClientObject *)Py_NewRef((PyObject *)cl);
    fo->f = f;
    fo->labelnames = Py_NewRef(labelnames);
    fo->child = (PyTypeObject *)Py_NewRef((PyObject *)child);
    fo->type = type;
    fo->cache = PyDict_New();
    PyObject_GC_Track(fo);
    if (fo->cache == NULL) {
        Py_DECREF(fo);
        return NULL;
    }
    return (PyObject *)fo;
}

/* counter/gauge/histogram(name, help, labelnames: tuple, mode=, bounds=) */
static PyObject *client_family(ClientObject *self, PyObject *args, PyObject *kw, int type)
{
    static char *names[] = {"name", "help", "labelnames", "mode", "bounds", NULL};
    const char *name, *help, *labels[SHMET_LABELS_MAX + 1];
    PyObject *labelnames, *bounds = NULL, *fast = NULL, *fo;
    PyTypeObject *base = type == SHMET_TYPE_COUNTER ? &CounterSeriesType
                         : type == SHMET_TYPE_GAUGE ? &GaugeSeriesType
                                                    : &HistogramSeriesType;
    struct shmet_family *f;
    double b[SHMET_BOUNDS_MAX];
    Py_ssize_t nb = 0;
    int mode = 0, rc;

    if (need_open(self) < 0 ||
        !PyArg_ParseTupleAndKeywords(args, kw, "ssO!|iO", names, &name, &help, &PyTuple_Type,
                                     &labelnames, &mode, &bounds))
        return NULL;
    if (utf8_list(labelnames, labels, SHMET_LABELS_MAX) < 0)
        return NULL;
    if (type == SHMET_TYPE_HISTOGRAM && bounds != NULL && bounds != Py_None) {
        if ((fast = PySequence_Fast(bounds, "bounds must be a sequence of floats")) == NULL)
            return NULL;
        nb = PySequence_Fast_GET_SIZE(fast);
        if (nb > (Py_ssize_t)SHMET_BOUNDS_MAX) {
            Py_DECREF(fast);
            return PyErr_Format(PyExc_ValueError, "at most %u buckets", SHMET_BOUNDS_MAX);
        }
        for (Py_ssize_t i = 0; i < nb; i++) {
            b[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
            if (b[i] == -1.0 && PyErr_Occurred()) {
                Py_DECREF(fast);
                return NULL;
            }
        }
        Py_DECREF(fast);
    }
    const char *const *lp = PyTuple_GET_SIZE(labelnames) ? labels : NULL;
    if (type == SHMET_TYPE_COUNTER)
        rc = shmet_counter(self->c, name, help, lp, &f);
    else if (type == SHMET_TYPE_GAUGE)
        rc = shmet_gauge(self->c, name, help, lp, (enum shmet_gauge_mode)mode, &f);
    else
        rc = shmet_histogram(self->c, name, help, lp, nb ? b : NULL, (size_t)nb, &f);
    if (rc < 0)
        return raise_rc(rc, name);
    fo = family_new_from(self, f, labelnames, base, type);
    if (fo != NULL)
        ((FamilyObject *)fo)->last = type == SHMET_TYPE_GAUGE && mode == SHMET_GAUGE_LAST;
    return fo;
}

static PyObject *client_counter(ClientObject *self, PyObject *args, PyObject *kw)
{
    return client_family(self, args, kw, SHMET_TYPE_COUNTER);
}

static PyObject *client_gauge(ClientObject *self, PyObject *args, PyObject *kw)
{
    return client_family(self, args, kw, SHMET_TYPE_GAUGE);
}

static PyObject *client_histogram(ClientObject *self, PyObject *args, PyObject *kw)
{
    return client_family(self, args, kw, SHMET_TYPE_HISTOGRAM);
}

static PyObject *client_attached(ClientObject *self, PyObject *unused)
{
    (void)unused;
    if (need_open(self) < 0)
        return NULL;
    return PyBool_FromLong(shmet_aggregator_attached(self->c) == 1);
}

static PyObject *client_address(ClientObject *self, PyObject *unused)
{
    char buf[64];
    int rc;

    (void)unused;
    if (need_open(self) < 0)
        return NULL;
    rc = shmet_aggregator_address(self->c, buf, sizeof(buf));
    if (rc < 0)
        Py_RETURN_NONE;
    return PyUnicode_FromStringAndSize(buf, rc);
}

static PyObject *client_worker_id(ClientObject *self, PyObject *unused)
{
    int rc;

    (void)unused;
    if (need_open(self) < 0)
        return NULL;
    rc = shmet_worker_id(self->c);
    if (rc < 0)
        return raise_rc(rc, "no slot for this process");
    return PyLong_FromLong(rc);
}

static PyObject *client_close(ClientObject *self, PyObject *unused)
{
    (void)unused;
    shmet_close(self->c);
    self->c = NULL;
    Py_RETURN_NONE;
}

static PyObject *client_get_ns(ClientObject *self, void *unused)
{
    (void)unused;
    return Py_NewRef(self->ns != NULL ? self->ns : Py_None);
}

static PyMethodDef client_methods[] = {
    {"counter", (PyCFunction)(void (*)(void))client_counter, METH_VARARGS | METH_KEYWORDS,
     "counter(name, help, labelnames) -> Family"},
    {"gauge", (PyCFunction)(void (*)(void))client_gauge, METH_VARARGS | METH_KEYWORDS,
     "gauge(name, help, labelnames, mode=0) -> Family"},
    {"histogram", (PyCFunction)(void (*)(void))client_histogram, METH_VARARGS | METH_KEYWORDS,
     "histogram(name, help, labelnames, bounds=None) -> Family"},
    {"aggregator_attached", (PyCFunction)client_attached, METH_NOARGS,
     "True while a live shmetricsd drains this namespace."},
    {"aggregator_address", (PyCFunction)client_address, METH_NOARGS,
     "'HOST:PORT' of the live shmetricsd of this namespace, or None."},
    {"worker_id", (PyCFunction)client_worker_id, METH_NOARGS,
     "The lowest slot index this process holds: a bounded worker identity."},
    {"close", (PyCFunction)client_close, METH_NOARGS,
     "Retire this process's slots; no series of this client may record after it."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef client_getset[] = {
    {"namespace", (getter)client_get_ns, NULL, "the namespace given, or None", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ClientType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmetrics._native.Client",
    .tp_basicsize = sizeof(ClientObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Client(namespace=None, slots=0, ring_records=0, arena_bytes=0)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)client_init,
    .tp_dealloc = (destructor)client_dealloc,
    .tp_methods = client_methods,
    .tp_getset = client_getset,
};

/* ---- family -------------------------------------------------------------- */

/* The cache key of a value tuple: the value itself for one label (no
 * tuple to build or hash on the hot path), else the tuple. Borrowed. */
static PyObject *cache_key(FamilyObject *self, PyObject *values)
{
    return PyTuple_GET_SIZE(self->labelnames) == 1 ? PyTuple_GET_ITEM(values, 0) : values;
}

static PyObject *make_series(FamilyObject *self, PyObject *key)
{
    Py_ssize_t n = PyTuple_GET_SIZE(key);
    const char *vals[SHMET_LABELS_MAX + 1];
    struct shmet_series s;
    SeriesObject *so;
    int rc;

    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        vals[i] = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(key, i), &len);
        if (vals[i] == NULL)
            return NULL;
        if ((size_t)len != strlen(vals[i]))
            return PyErr_Format(PyExc_ValueError, "label values may not contain NUL");
        if ((size_t)len > SHMET_LABEL_VALUE_MAX)
            return PyErr_Format(PyExc_ValueError, "label value of %zd bytes: at most %u",
                                len, SHMET_LABEL_VALUE_MAX);
    }
    rc = shmet_series_get(self->f, n ? vals : NULL, &s);
    if (rc < 0)
        return raise_rc(rc, "label values");
    so = (SeriesObject *)self->child->tp_alloc(self->child, 0);
    if (so == NULL)
        return NULL;
    so->s = s;
    so->last = self->last;
    if (PyDict_SetItem(self->cache, cache_key(self, key), (PyObject *)so) < 0) {
        Py_DECREF(so);
        return NULL;
    }
    return (PyObject *)so;
}

/* The values tuple for labels(*args, **kw), each value str()-ed; a new
 * reference, or NULL with prometheus_client's exception set. */
static PyObject *label_key(FamilyObject *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    Py_ssize_t n = PyTuple_GET_SIZE(self->labelnames), nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *key;

    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "No label names were set when constructing this metric");
        return NULL;
    }
    if (nargs && nkw) {
        PyErr_SetString(PyExc_ValueError, "Can't pass both *args and **kwargs");
        return NULL;
    }
    if ((nkw ? nkw : nargs) != n) {
        PyErr_SetString(PyExc_ValueError, nkw ? "Incorrect label names" : "Incorrect label count");
        return NULL;
    }
    if ((key = PyTuple_New(n)) == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = NULL;
        if (nkw == 0) {
            v = args[i];
        } else {
            PyObject *want = PyTuple_GET_ITEM(self->labelnames, i);
            for (Py_ssize_t k = 0; k < nkw && v == NULL; k++) {
                int eq = PyUnicode_Compare(PyTuple_GET_ITEM(kwnames, k), want);
                if (eq == 0)
                    v = args[nargs + k];
            }
            if (v == NULL) {
                Py_DECREF(key);
                PyErr_SetString(PyExc_ValueError, "Incorrect label names");
                return NULL;
            }
        }
        v = PyUnicode_CheckExact(v) ? Py_NewRef(v) : PyObject_Str(v);
        if (v == NULL) {
            Py_DECREF(key);
            return NULL;
        }
        PyTuple_SET_ITEM(key, i, v);
    }
    return key;
}

static PyObject *family_labels(FamilyObject *self, PyObject *const *args, size_t nargsf,
                               PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *key, *s;

    /* The common case, one str label value: look it up as it is. */
    if (nargs == 1 && kwnames == NULL && PyTuple_GET_SIZE(self->labelnames) == 1 &&
        PyUnicode_CheckExact(args[0])) {
        s = PyDict_GetItemWithError(self->cache, args[0]); /* borrowed */
        if (s != NULL)
            return Py_NewRef(s);
        if (PyErr_Occurred())
            return NULL;
    }
    if ((key = label_key(self, args, nargs, kwnames)) == NULL)
        return NULL;
    s = PyDict_GetItemWithError(self->cache, cache_key(self, key)); /* borrowed */
    if (s != NULL)
        Py_INCREF(s);
    else if (!PyErr_Occurred())
        s = make_series(self, key);
    Py_DECREF(key);
    return s;
}

/* The one series of a family without labels. */
static PyObject *family_root(FamilyObject *self, PyObject *unused)
{
    PyObject *key, *s;

    (void)unused;
    if (PyTuple_GET_SIZE(self->labelnames) != 0)
        return PyErr_Format(PyExc_ValueError, "this family has labels");
    if ((key = PyTuple_New(0)) == NULL)
        return NULL;
    s = PyDict_GetItemWithError(self->cache, key);
    if (s != NULL)
        Py_INCREF(s);
    else if (!PyErr_Occurred())
        s = make_series(self, key);
    Py_DECREF(key);
    return s;
}

static PyObject *family_forget(FamilyObject *self, PyObject *key)
{
    if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != PyTuple_GET_SIZE(self->labelnames))
        return PyErr_Format(PyExc_TypeError, "expected a tuple of label values");
    if (PyDict_DelItem(self->cache, cache_key(self, key)) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_KeyError))
            return NULL;
        PyErr_Clear();
    }
    Py_RETURN_NONE;
}

static PyObject *family_keys(FamilyObject *self, PyObject *unused)
{
    PyObject *keys = PyDict_Keys(self->cache);

    (void)unused;
    if (keys == NULL || PyTuple_GET_SIZE(self->labelnames) != 1)
        return keys;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) { /* one value: make it a tuple */
        PyObject *t = PyTuple_Pack(1, PyList_GET_ITEM(keys, i));
        if (t == NULL) {
            Py_DECREF(keys);
            return NULL;
        }
        PyList_SetItem(keys, i, t);
    }
    return keys;
}

static int family_traverse(FamilyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->client);
    Py_VISIT(self->labelnames);
    Py_VISIT(self->cache);
    Py_VISIT(self->child);
    return 0;
}

static int family_clear(FamilyObject *self)
{
    Py_CLEAR(self->client);
    Py_CLEAR(self->labelnames);
    Py_CLEAR(self->cache);
    Py_CLEAR(self->child);
    return 0;
}

static void family_dealloc(FamilyObject *self)
{
    PyObject_GC_UnTrack(self);
    family_clear(self);
    PyObject_GC_Del(self);
}

static PyMethodDef family_methods[] = {
    {"labels", (PyCFunction)(void (*)(void))family_labels, METH_FASTCALL | METH_KEYWORDS,
     "labels(*values, **labels) -> the series for these label values (made on first use)."},
    {"root", (PyCFunction)family_root, METH_NOARGS, "the series of a family without labels."},
    {"forget", (PyCFunction)family_forget, METH_O,
     "forget(values): drop the local handle of a series (the aggregator keeps it)."},
    {"keys", (PyCFunction)family_keys, METH_NOARGS, "the label value tuples used so far."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FamilyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmetrics._native.Family",
    .tp_basicsize = sizeof(FamilyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A metric family in the shared segment; made by Client.counter() and friends.",
    .tp_traverse = (traverseproc)family_traverse,
    .tp_clear = (inquiry)family_clear,
    .tp_dealloc = (destructor)family_dealloc,
    .tp_methods = family_methods,
};

/* ---- module -------------------------------------------------------------- */

static PyObject *set_helpers(PyObject *mod, PyObject *args)
{
    PyObject *t, *i, *e;

    (void)mod;
    if (!PyArg_ParseTuple(args, "OOO", &t, &i, &e))
        return NULL;
    native_set_helpers(t, i, e);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_set_helpers", set_helpers, METH_VARARGS,
     "_set_helpers(timer, inprogress, exceptions): the Python context managers."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "shmetrics._native",
    .m_doc = "The C core of shmetrics: clients, families and series over libshmetrics.",
    .m_size = -1,
    .m_methods = module_methods,
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

PyMODINIT_FUNC PyInit__native(void); /* the one exported symbol */

PyMODINIT_FUNC PyInit__native(void)
{
    PyObject *m = PyModule_Create(&native_module);

    if (m == NULL)
        return NULL;
    SegmentError = PyErr_NewExceptionWithDoc(
        "shmetrics.SegmentError",
        "The shared-memory segment cannot be opened or created (errno, message).", PyExc_OSError,
        NULL);
    if (SegmentError == NULL || PyModule_AddObject(m, "SegmentError", Py_NewRef(SegmentError)) < 0 ||
        add_type(m, &ClientType, "Client") < 0 || add_type(m, &FamilyType, "Family") < 0 ||
        add_type(m, &CounterSeriesType, "CounterSeries") < 0 ||
        add_type(m, &GaugeSeriesType, "GaugeSeries") < 0 ||
        add_type(m, &HistogramSeriesType, "HistogramSeries") < 0 ||
        PyModule_AddIntConstant(m, "GAUGE_SUM", SHMET_GAUGE_SUM) < 0 ||
        PyModule_AddIntConstant(m, "GAUGE_MAX", SHMET_GAUGE_MAX) < 0 ||
        PyModule_AddIntConstant(m, "GAUGE_MIN", SHMET_GAUGE_MIN) < 0 ||
        PyModule_AddIntConstant(m, "GAUGE_LAST", SHMET_GAUGE_LAST) < 0 ||
        PyModule_AddIntConstant(m, "LABEL_VALUE_MAX", SHMET_LABEL_VALUE_MAX) < 0 ||
        PyModule_AddStringConstant(m, "VERSION", SHMET_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
