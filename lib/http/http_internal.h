/*
 * http_internal.h — what the two files of lib/http share: the remote
 * configuration (limits, TLS, S3 credentials and addressing), building the
 * request URL of a location, preparing a curl easy handle for a request
 * (timeouts, TLS, SigV4 signing) and running one synchronous request with
 * retries (HEAD for sizes, DELETE, ListObjectsV2 pages).
 *
 * http.c holds the multi-handle engine and the backend tables; s3.c holds
 * credentials, S3 addressing and listing.
 *
 * Credentials live only in `remote_cfg` and in curl's options (never in
 * URLs), so no error message built from a URL or a curl error names them.
 */
#ifndef LSIO_HTTP_INTERNAL_H
#define LSIO_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "io_backend.h"

typedef struct remote_cfg {
    int is_s3;
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
} remote_cfg;

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

/* ListObjectsV2 of s3://bucket/prefix, every page. */
int lsio__s3_list(const remote_cfg *cfg, const char *prefix, lsio_list_fn fn, void *ctx);

#endif /* LSIO_HTTP_INTERNAL_H */
