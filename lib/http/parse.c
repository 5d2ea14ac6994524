/*
 * parse.c — the small parsers of what a server sends back that are not the
 * body of a read: the Content-Range and ETag headers of an answer, and the
 * text of one element of a small XML answer (multipart upload: the
 * UploadId of InitiateMultipartUploadResult, the root and error Code of a
 * CompleteMultipartUpload answer).
 *
 * They work on (pointer, length) with no NUL terminator assumed, never
 * truncate silently (a value that does not fit is refused), and each has a
 * libFuzzer target (fuzz/fuzz_http_content_range.c, fuzz_http_etag.c,
 * fuzz_s3_multipart.c). The ListObjectsV2 page and the credentials file
 * are parsed in s3.c.
 */
#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Digits at *p (before end) as a uint64: 0, or -1 (none, or overflow). */
static int digits(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s == end || *s < '0' || *s > '9')
        return -1;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

int lsio__parse_content_range(const char *v, size_t n, uint64_t *a, uint64_t *b, uint64_t *t)
{
    const char *p = v, *end = v + n;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || is_ows(end[-1])))
        end--;
    while (p < end && is_ows(*p))
        p++;
    if (end - p < 5 || strncasecmp(p, "bytes", 5) != 0)
        return -1;
    p += 5;
    if (p == end || *p != ' ')
        return -1;
    while (p < end && *p == ' ')
        p++;
    if (digits(&p, end, a) < 0 || p == end || *p++ != '-')
        return -1;
    if (digits(&p, end, b) < 0 || p == end || *p++ != '/')
        return -1;
    if (*b < *a || *b == UINT64_MAX)
        return -1;
    if (p < end && *p == '*') {
        p++;
        *t = UINT64_MAX;
    } else if (digits(&p, end, t) < 0 || *t <= *b || *t == UINT64_MAX) {
        return -1;
    }
    return p == end ? 0 : -1;
}

int lsio__parse_etag(const char *line, size_t n, char *out, size_t cap)
{
    if (n < 5 || strncasecmp(line, "ETag:", 5) != 0)
        return 0;
    const char *v = line + 5, *end = line + n;
    while (v < end && is_ows(*v))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || is_ows(end[-1])))
        end--;
    size_t m = (size_t)(end - v);
    out[0] = 0;
    if (m >= cap)
        return 1; /* too long to keep whole: no ETag rather than a wrong one */
    for (size_t i = 0; i < m; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            return 1; /* not text an XML body can carry back */
    memcpy(out, v, m);
    out[m] = 0;
    return 1;
}

/* ------------------------------------------------------------- small XML */

typedef struct xml_find {
    const char *want; /* element whose text we want */
    char *out;
    size_t cap, n;
    int depth, in, found, overflow;
    char root[32];
} xml_find;

static void xf_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
    (void)attr;
    xml_find *f = ud;
    if (f->depth++ == 0)
        snprintf(f->root, sizeof f->root, "%s", name);
    if (!f->found && !f->in && !strcmp(name, f->want)) {
        f->in = f->depth;
        f->n = 0;
    }
}

static void xf_end(void *ud, const XML_Char *name)
{
    xml_find *f = ud;
    if (f->in == f->depth && !strcmp(name, f->want)) {
        f->in = 0;
        f->found = 1;
    }
    f->depth--;
}

static void xf_text(void *ud, const XML_Char *s, int len)
{
    xml_find *f = ud;
    if (!f->in || len <= 0)
        return;
    size_t n = (size_t)len;
    if (f->n + n >= f->cap) {
        f->overflow = 1;
        n = f->cap - 1 - f->n;
    }
    memcpy(f->out + f->n, s, n);
    f->n += n;
    f->out[f->n] = 0;
}

int lsio__xml_get(const char *body, size_t len, const char *want, char *out, size_t cap,
                  char root[32])
{
    out[0] = 0;
    root[0] = 0;
    if (cap == 0 || len > INT_MAX)
        return -1;
    xml_find f = {.want = want, .out = out, .cap = cap};
    XML_Parser xp = XML_ParserCreate(NULL);
    if (!xp)
        return -1;
    XML_SetUserData(xp, &f);
    XML_SetElementHandler(xp, xf_start, xf_end);
    XML_SetCharacterDataHandler(xp, xf_text);
    int ok = XML_Parse(xp, body ? body : "", (int)len, 1) != XML_STATUS_ERROR;
    XML_ParserFree(xp);
    memcpy(root, f.root, sizeof f.root);
    if (!ok || f.overflow) {
        out[0] = 0;
        return -1;
    }
    return 0;
}
