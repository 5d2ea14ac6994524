/* test_parse_int: lsio_parse_int_text, the exact reading of a JSON
 * integer's text that the Zarr reader and writer use for fill values past
 * 2^53 (a double would round them); lsio_parse_bytes, the byte counts of
 * settings ($LSIO_STREAM_MIN, $LSIO_CACHE_BUDGET, $LSIO_BUFFER_CACHE, S3
 * part sizes) and sysfs cache sizes. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lsio_base.h"
#include "testutil.h"

static int parse(const char *s, int sg, unsigned bits, uint64_t *out)
{
    *out = 12345;
    return lsio_parse_int_text(s, strlen(s), sg, bits, out);
}

int main(void)
{
    uint64_t u;
    CHECK_OK(parse("9007199254740993", 1, 64, &u));
    CHECK(u == 9007199254740993ull); /* 2^53 + 1: no double holds it */
    CHECK_OK(parse(" -9223372036854775808\n", 1, 64, &u));
    CHECK(u == (uint64_t)INT64_MIN);
    CHECK_OK(parse("9223372036854775807", 1, 64, &u));
    CHECK(u == (uint64_t)INT64_MAX);
    CHECK_EQ(parse("9223372036854775808", 1, 64, &u), -ERANGE);
    CHECK_OK(parse("18446744073709551615", 0, 64, &u));
    CHECK(u == UINT64_MAX);
    CHECK_EQ(parse("18446744073709551616", 0, 64, &u), -ERANGE);
    CHECK_EQ(parse("-1", 0, 64, &u), -ERANGE);
    CHECK_OK(parse("-0", 0, 8, &u));
    CHECK(u == 0);
    CHECK_OK(parse("255", 0, 8, &u));
    CHECK(u == 255);
    CHECK_EQ(parse("256", 0, 8, &u), -ERANGE);
    CHECK_OK(parse("-128", 1, 8, &u));
    CHECK(u == (uint64_t)-128);
    CHECK_EQ(parse("-129", 1, 8, &u), -ERANGE);
    CHECK_OK(parse("00000000000000000000000000000000000000042", 1, 16, &u));
    CHECK(u == 42);
    CHECK_EQ(parse("123456789012345678901234567890123", 0, 64, &u), -ERANGE);
    static const char *const not_literals[] = {"1e3", "5.0", "", " ", "-", "+5", "0x10", "1 2",
                                                "\"7\""};
    for (unsigned i = 0; i < sizeof not_literals / sizeof *not_literals; i++) {
        CHECK_EQ(parse(not_literals[i], 1, 64, &u), -EINVAL);
        CHECK(u == 12345); /* untouched */
    }
    static const struct { const char *s; uint64_t v; } sizes[] = {
        {"0", 0}, {"4096", 4096}, {"1k", 1024}, {"32768K\n", 32u << 20}, {"8M", 8u << 20},
        {"3g", 3ull << 30}, {"2T", 2ull << 40}, {"18446744073709551615", UINT64_MAX},
        {"16777215T", 16777215ull << 40}};
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        u = 12345;
        CHECK_OK(lsio_parse_bytes(sizes[i].s, &u));
        CHECK(u == sizes[i].v);
    }
    static const char *const bad_sizes[] = {"", "-1", "+1", " 1", "1 ", "1.5G", "1KB", "1Ki",
                                            "K", "0x10", "off", "1\n\n", "1P"};
    for (unsigned i = 0; i < sizeof bad_sizes / sizeof *bad_sizes; i++) {
        u = 12345;
        CHECK_EQ(lsio_parse_bytes(bad_sizes[i], &u), -EINVAL);
        CHECK(u == 12345);
    }
    CHECK_EQ(lsio_parse_bytes("18446744073709551616", &u), -ERANGE);
    CHECK_EQ(lsio_parse_bytes("16777216T", &u), -ERANGE);
    CHECK_EQ(lsio_parse_bytes(NULL, &u), -EINVAL);
    return 0;
}
