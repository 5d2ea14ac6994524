/*
 * test_dtype.c — numpy type strings and Zarr v3 names parse to the right
 * kind, size and byte order, bad ones fail, and lsio_dtype_str prints the
 * native-order numpy string back.
 */
#include <string.h>

#include "lsio_codecs.h"
#include "testutil.h"

static void ok(const char *s, lsio_dtype_kind k, unsigned size, int big, const char *back)
{
    lsio_dtype d;
    char buf[32];
    if (lsio_dtype_parse(s, &d) < 0) {
        fprintf(stderr, "parse %s: %s\n", s, lsio_last_error());
        exit(1);
    }
    CHECK_EQ(d.kind, k);
    CHECK_EQ(d.size, size);
    CHECK_EQ(d.big_endian, big);
    if (strcmp(lsio_dtype_str(d, buf, sizeof buf), back)) {
        fprintf(stderr, "%s printed as %s, want %s\n", s, buf, back);
        exit(1);
    }
}

int main(void)
{
    ok("<f4", LSIO_DT_FLOAT, 4, 0, "<f4");
    ok(">i8", LSIO_DT_INT, 8, 1, "<i8");
    ok("|b1", LSIO_DT_BOOL, 1, 0, "|b1");
    ok("|u1", LSIO_DT_UINT, 1, 0, "|u1");
    ok("|i1", LSIO_DT_INT, 1, 0, "|i1");
    ok(">u2", LSIO_DT_UINT, 2, 1, "<u2");
    ok("<c8", LSIO_DT_COMPLEX, 8, 0, "<c8");
    ok(">c16", LSIO_DT_COMPLEX, 16, 1, "<c16");
    ok("<f2", LSIO_DT_FLOAT, 2, 0, "<f2");
    ok("|S7", LSIO_DT_BYTES, 7, 0, "|S7");
    ok("<U13", LSIO_DT_UNICODE, 52, 0, "<U13");
    ok(">U1", LSIO_DT_UNICODE, 4, 1, "<U1");
    ok("|O", LSIO_DT_STRING, 0, 0, "|O");
    ok("bool", LSIO_DT_BOOL, 1, 0, "|b1");
    ok("int8", LSIO_DT_INT, 1, 0, "|i1");
    ok("int16", LSIO_DT_INT, 2, 0, "<i2");
    ok("int32", LSIO_DT_INT, 4, 0, "<i4");
    ok("int64", LSIO_DT_INT, 8, 0, "<i8");
    ok("uint8", LSIO_DT_UINT, 1, 0, "|u1");
    ok("uint16", LSIO_DT_UINT, 2, 0, "<u2");
    ok("uint32", LSIO_DT_UINT, 4, 0, "<u4");
    ok("uint64", LSIO_DT_UINT, 8, 0, "<u8");
    ok("float16", LSIO_DT_FLOAT, 2, 0, "<f2");
    ok("float32", LSIO_DT_FLOAT, 4, 0, "<f4");
    ok("float64", LSIO_DT_FLOAT, 8, 0, "<f8");
    ok("complex64", LSIO_DT_COMPLEX, 8, 0, "<c8");
    ok("complex128", LSIO_DT_COMPLEX, 16, 0, "<c16");
    ok("string", LSIO_DT_STRING, 0, 0, "|O");
    ok("r16", LSIO_DT_BYTES, 2, 0, "|S2");

    const char *bad[] = {"", "<", "<f3", "<i16", "|b2", "<c4", "float", "int128", "<x4",
                         "<f4x", "|S0", "r7", "S", "<U", "|S-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lsio_dtype d;
        if (lsio_dtype_parse(bad[i], &d) >= 0) {
            fprintf(stderr, "\"%s\" parsed\n", bad[i]);
            return 1;
        }
    }
    CHECK(lsio_dtype_parse(NULL, NULL) < 0);
    printf("ok\n");
    return 0;
}
