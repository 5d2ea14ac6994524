/*
 * http_internal.h — what the two files of lib/http share: the remote
 * configuration (limits, TLS, S3 credentials and addressing), building the
 * request URL of a location, preparing a curl easy handle for a request
 * (timeouts, TLS, SigV4 signing) and running one synchronous request with
 * retries (HEAD for sizes, DELETE, ListObjectsV2 pages).
 *
 * http.c holds the multi-handle engine and the backend tables; s3.c holds
 * credentials, S3 addressing and listing; multipart.c the S3 multipart
 * upload of large puts (its parts run as ops on the engine); parse.c the
 * parsers of headers and small XML answers. Every parser of server (or
 * credentials file) text is declared at the end of this header, works on
 * a buffer and has a libFuzzer target (fuzz/fuzz_http_*.c, fuzz_s3_*.c).
 *
 * Credentials live only in `remote_cfg` and in curl's options (never in
 * URLs), so no error message built from a URL or a curl error names them.
 *
 * Defaults of the remote backends (lsio_io_opts field, or variable):
 *   merge_gap        1 MiB   ranges closer than this share one GET
 *   split_bytes      16 MiB  larger ranges are fetched in parallel parts
 *   max_connections  32      requests in flight (and connections) per io
 *   retries          5       attempts after the first (5xx, 429, 408,
 *                            timeouts, resets, short or wrong bodies)
 *   backoff                  50 ms doubling to 3.2 s, jittered in [b/2, b]
 *   timeout_ms       30 s    connect timeout; a stall (< 1 byte/s) this long
 *   deadline_ms      120 s   one range, all attempts and waits included
 *   LSIO_S3_MULTIPART_THRESHOLD 64 MiB, LSIO_S3_PART_SIZE 16 MiB (below)
 */
#ifndef LSIO_HTTP_INTERNAL_H
#define LSIO_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "io_backend.h"

/* Idle curl easy handles of synchronous requests (remote.c): reused so
 * that a HEAD, a list page or a DELETE finds its connection alive. */
typedef struct remote_idle remote_idle;

typedef struct remote_cfg {
    int is_s3;
    remote_idle *idle;
    unsigned max_connections; /* concurrent requests (and connections) */
    unsigned retries;         /* attempts after the first */
    unsigned timeout_ms;      /* connect timeout and stall (no bytes) limit */
    unsigned deadline_ms;     /* total time of one op, retries included */
    int verify_tls;
    /* s3 */
    char *region;   /* "us-east-1" when nothing says otherwise */
    char *endpoint; /* "http://127.0.0.1:4568" (no trailing '/'), or NULL */
    char *key_id;   /* NULL: unsigned requests */
    char *secret;
    char *token;    /* session token, or NULL */
    int path_style; /* resolved: 1 path-style, 0 virtual-hosted */
    char sigv4[96]; /* "aws:amz:REGION:s3" */
    /* s3 multipart upload (multipart.c) */
    uint64_t mp_threshold; /* puts of this many bytes and more go multipart */
    uint64_t mp_part;      /* bytes per part (the last may be shorter) */
} remote_cfg;

/* Multipart defaults: puts of 64 MiB and more are uploaded in parts of
 * 16 MiB (grown where an object would need more than 10000 parts), sent in
 * parallel up to max_connections. LSIO_S3_MULTIPART_THRESHOLD and
 * LSIO_S3_PART_SIZE (bytes; K/M/G suffixes) override them; S3 itself wants
 * parts of at least 5 MiB except the last. */
#define LSIO_S3_MP_THRESHOLD ((uint64_t)64 << 20)
#define LSIO_S3_MP_PART ((uint64_t)16 << 20)
#define LSIO_S3_MP_MAX_PARTS 10000

int lsio__remote_idle_create(remote_idle **out);
void lsio__remote_idle_destroy(remote_idle *idle);

/* Fill cfg from opts and (s3) the environment and ~/.aws/credentials.
 * Returns 0 or a negative error with *why set (malloc'd). */
int lsio__remote_cfg_init(remote_cfg *cfg, int is_s3, const lsio_io_opts *opts, char **why);
void lsio__remote_cfg_free(remote_cfg *cfg);

/* The URL to request for a location (http(s):// as is; s3://bucket/key
 * mapped to the endpoint with its key percent-encoded), with `query`
 * ("a=b&c=d", already encoded and sorted, or NULL) appended. malloc'd;
 * NULL with *err set on a malformed location. */
char *lsio__remote_url(const remote_cfg *cfg, const char *location, const char *query, int *err);

/* Percent-encode s the way SigV4 wants (unreserved kept, '/' kept when
 * keep_slash) into a malloc'd string. */
char *lsio__uri_encode(const char *s, int keep_slash);

/* Options common to every request: URL, timeouts, TLS, signing, keep-alive.
 * `hdrs` gets the extra headers (x-amz-content-sha256, token) appended;
 * the caller sets it with CURLOPT_HTTPHEADER and frees it. */
void lsio__remote_setup(const remote_cfg *cfg, CURL *e, const char *url,
                        struct curl_slist **hdrs, long timeout_ms);

/* Whether a failed attempt is worth another: 5xx, 429, 408 and transport
 * failures (timeouts, resets, cut bodies). */
int lsio__remote_retryable(CURLcode cc, long status);
/* Sleep before attempt n+1 (n >= 1): exponential backoff with jitter, in
 * milliseconds. */
unsigned lsio__remote_backoff_ms(unsigned attempt);
/* Map an HTTP status or curl code to an LSIO error. */
int lsio__remote_err(CURLcode cc, long status);

/* A synchronous request with retries. method: "GET", "HEAD", "DELETE".
 * The body (GET) goes to body/body_len (malloc'd, caller frees) when body
 * is not NULL. *status gets the final HTTP status, *length the
 * Content-Length (HEAD; -1 unknown). On failure returns a negative error
 * and sets lsio_error with a message naming the URL, status or curl error
 * and attempts. */
int lsio__remote_sync(const remote_cfg *cfg, const char *method, const char *url,
                      char **body, size_t *body_len, long *status, int64_t *length);
/* The same with a request body (method "POST" or "PUT"): send_len bytes of
 * send (which may be NULL when send_len is 0), sent as send_type (NULL:
 * application/octet-stream; never curl's form-urlencoded default, which an
 * initiated multipart upload would keep as the object's type). */
int lsio__remote_sync_send(const remote_cfg *cfg, const char *method, const char *url,
                           const void *send, size_t send_len, const char *send_type,
                           char **body, size_t *body_len, long *status, int64_t *length);

/* ListObjectsV2 of s3://bucket/prefix, every page. */
int lsio__s3_list(const remote_cfg *cfg, const char *prefix, lsio_list_fn fn, void *ctx);

/* ------------------------------------------------------------- multipart */

typedef struct mp_upload mp_upload;

/* One part of a multipart upload as the engine sees it: a PUT op (of the
 * part's bytes) whose backend_data points at the part. The engine requests
 * the object's URL with `query`, keeps the ETag of the answer in `etag`,
 * and calls lsio__mp_part_done() instead of lsio__op_done(). */
typedef struct mp_part {
    lsio_op op;
    mp_upload *up;
    unsigned number; /* 1-based */
    char query[440]; /* "partNumber=N&uploadId=ID" (ID percent-encoded) */
    char etag[128];  /* as the server sent it, quotes included */
} mp_part;

/* What a multipart upload needs from the engine that runs its parts. */
typedef struct mp_engine {
    const remote_cfg *cfg;
    void *state;
    /* queue a part op; -ECANCELED (nothing queued) once the io is stopping */
    int (*submit)(void *state, lsio_op *op);
    /* the upload is over (op completed): called last, from its thread */
    void (*exit)(void *state);
} mp_engine;

/* Whether a put of op goes multipart (s3, a put of cfg->mp_threshold bytes
 * or more). */
int lsio__mp_wanted(const remote_cfg *cfg, const lsio_op *op);
/* Upload op in parts, driven by a thread of its own: initiate, queue every
 * part on the engine, then complete, or abort (AbortMultipartUpload) when a
 * part fails. The thread completes op with lsio__op_done and then calls
 * eng->exit. Returns 0, or a negative error (thread not started; op not
 * touched, exit not called). */
int lsio__mp_start(const mp_engine *eng, lsio_op *op);
/* Called by the engine when a part op is finished (status, error set). */
void lsio__mp_part_done(mp_part *p);

/* Build the CompleteMultipartUpload body of n parts (their ETags
 * XML-escaped) into a malloc'd string of *len bytes; NULL when out of
 * memory. */
char *lsio__mp_complete_body(const mp_part *parts, unsigned n, size_t *len);

/* --------------------------------------------------------------- parsers */

/* The value of a Content-Range header (n bytes, no NUL needed; spaces and
 * CR LF around it allowed): "bytes A-B/T", T a number or an asterisk
 * (unknown: *t = UINT64_MAX). Strict: decimal digits only, A <= B < T.
 * 0, or -1. */
int lsio__parse_content_range(const char *v, size_t n, uint64_t *a, uint64_t *b, uint64_t *t);

/* A header line (n bytes, "Name: value\r\n"): 0 when it is not ETag;
 * 1 when it is, with its value (quotes kept) in out, or "" when it does
 * not fit in cap or has bytes outside printable ASCII (no XML could send
 * it back). */
int lsio__parse_etag(const char *line, size_t n, char *out, size_t cap);

/* Parse a small XML answer: the root element's name into root (truncated
 * to 31 bytes), the text of the first `want` element into out. 0, or -1
 * for XML that does not parse or a text that does not fit in cap. */
int lsio__xml_get(const char *body, size_t len, const char *want, char *out, size_t cap,
                  char root[32]);

/* One ListObjectsV2 page as the listing loop needs it. */
typedef struct s3_page {
    int truncated;    /* IsTruncated was "true" */
    char next[2048];  /* NextContinuationToken, or "" */
    int stopped;      /* fn returned non-zero */
    char why[160];    /* what was wrong, when -LSIO_EFORMAT */
} s3_page;

/* Parse one ListObjectsV2 answer (len bytes): fn(ctx, "s3://bucket/KEY",
 * size) for each Contents entry, in order, until fn returns non-zero.
 * Returns 0, -ENOMEM, or -LSIO_EFORMAT (malformed XML, a Contents without
 * a Key or with a Size that is not a number, a text too long) with
 * page->why set; no lsio_error. */
int lsio__s3_parse_list_page(const char *bucket, const char *body, size_t len, lsio_list_fn fn,
                             void *ctx, s3_page *page);

/* Parse shared-credentials text (an INI file of len bytes, no NUL needed)
 * for the section [profile] (or [profile NAME]): aws_access_key_id,
 * aws_secret_access_key and aws_session_token replace cfg->key_id, secret
 * and token, region sets cfg->region when it is NULL (all malloc'd).
 * Returns 0, or -ENOMEM. */
int lsio__aws_profile_parse(const char *text, size_t len, const char *profile, remote_cfg *cfg);

#endif /* LSIO_HTTP_INTERNAL_H */
