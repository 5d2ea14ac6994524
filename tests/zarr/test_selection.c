/*
 * test_selection.c — selections follow numpy: slices clamp and count as
 * Python's range(n)[slice] does (expected values below were computed by
 * Python), integer indices drop their dimension, "..." and missing trailing
 * terms select everything, and errors name the term and the dimension.
 */
#include <string.h>

#include "lsio_zarr.h"
#include "testutil.h"

static const struct {
    const char *term;
    long long n, start, step, count;
} slices[] = {
    {":", 0, 0, 1, 0},
    {":", 0, 0, 1, 0},
    {"::-1", 0, 0, -1, 0},
    {"1:", 0, 0, 1, 0},
    {":-1", 0, 0, 1, 0},
    {"-3:", 0, 0, 1, 0},
    {"5:2", 0, 0, 1, 0},
    {"5:2:-1", 0, 0, -1, 0},
    {"::2", 0, 0, 2, 0},
    {"1::3", 0, 0, 3, 0},
    {"-1::-2", 0, 0, -2, 0},
    {"100:", 0, 0, 1, 0},
    {"-100:100", 0, 0, 1, 0},
    {":0", 0, 0, 1, 0},
    {"2:2", 0, 0, 1, 0},
    {"::-3", 0, 0, -3, 0},
    {"10:-10:-1", 0, 0, -1, 0},
    {"3:1000:7", 0, 0, 7, 0},
    {":", 1, 0, 1, 1},
    {":", 1, 0, 1, 1},
    {"::-1", 1, 0, -1, 1},
    {"1:", 1, 0, 1, 0},
    {":-1", 1, 0, 1, 0},
    {"-3:", 1, 0, 1, 1},
    {"5:2", 1, 0, 1, 0},
    {"5:2:-1", 1, 0, -1, 0},
    {"::2", 1, 0, 2, 1},
    {"1::3", 1, 0, 3, 0},
    {"-1::-2", 1, 0, -2, 1},
    {"100:", 1, 0, 1, 0},
    {"-100:100", 1, 0, 1, 1},
    {":0", 1, 0, 1, 0},
    {"2:2", 1, 0, 1, 0},
    {"::-3", 1, 0, -3, 1},
    {"10:-10:-1", 1, 0, -1, 1},
    {"3:1000:7", 1, 0, 7, 0},
    {":", 5, 0, 1, 5},
    {":", 5, 0, 1, 5},
    {"::-1", 5, 4, -1, 5},
    {"1:", 5, 1, 1, 4},
    {":-1", 5, 0, 1, 4},
    {"-3:", 5, 2, 1, 3},
    {"5:2", 5, 0, 1, 0},
    {"5:2:-1", 5, 4, -1, 2},
    {"::2", 5, 0, 2, 3},
    {"1::3", 5, 1, 3, 2},
    {"-1::-2", 5, 4, -2, 3},
    {"100:", 5, 0, 1, 0},
    {"-100:100", 5, 0, 1, 5},
    {":0", 5, 0, 1, 0},
    {"2:2", 5, 0, 1, 0},
    {"::-3", 5, 4, -3, 2},
    {"10:-10:-1", 5, 4, -1, 5},
    {"3:1000:7", 5, 3, 7, 1},
    {":", 10, 0, 1, 10},
    {":", 10, 0, 1, 10},
    {"::-1", 10, 9, -1, 10},
    {"1:", 10, 1, 1, 9},
    {":-1", 10, 0, 1, 9},
    {"-3:", 10, 7, 1, 3},
    {"5:2", 10, 0, 1, 0},
    {"5:2:-1", 10, 5, -1, 3},
    {"::2", 10, 0, 2, 5},
    {"1::3", 10, 1, 3, 3},
    {"-1::-2", 10, 9, -2, 5},
    {"100:", 10, 0, 1, 0},
    {"-100:100", 10, 0, 1, 10},
    {":0", 10, 0, 1, 0},
    {"2:2", 10, 0, 1, 0},
    {"::-3", 10, 9, -3, 4},
    {"10:-10:-1", 10, 9, -1, 9},
    {"3:1000:7", 10, 3, 7, 1},
    {":", 17, 0, 1, 17},
    {":", 17, 0, 1, 17},
    {"::-1", 17, 16, -1, 17},
    {"1:", 17, 1, 1, 16},
    {":-1", 17, 0, 1, 16},
    {"-3:", 17, 14, 1, 3},
    {"5:2", 17, 0, 1, 0},
    {"5:2:-1", 17, 5, -1, 3},
    {"::2", 17, 0, 2, 9},
    {"1::3", 17, 1, 3, 6},
    {"-1::-2", 17, 16, -2, 9},
    {"100:", 17, 0, 1, 0},
    {"-100:100", 17, 0, 1, 17},
    {":0", 17, 0, 1, 0},
    {"2:2", 17, 0, 1, 0},
    {"::-3", 17, 16, -3, 6},
    {"10:-10:-1", 17, 10, -1, 3},
    {"3:1000:7", 17, 3, 7, 2},
};

static void expect_error(const char *text, unsigned ndim, const uint64_t *shape,
                         const char *needle)
{
    lsio_selection s;
    int rc = lsio_selection_parse(text, ndim, shape, &s);
    CHECK_EQ(rc, -LSIO_ESELECTION);
    if (!strstr(lsio_last_error(), needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", lsio_last_error(), needle);
        exit(1);
    }
}

int main(void)
{
    /* Slices against Python's semantics, one dimension. */
    for (size_t i = 0; i < sizeof slices / sizeof slices[0]; i++) {
        uint64_t shape[1] = {(uint64_t)slices[i].n};
        lsio_selection s;
        CHECK_OK(lsio_selection_parse(slices[i].term, 1, shape, &s));
        if (s.dim[0].count != (uint64_t)slices[i].count ||
            (slices[i].count && (s.dim[0].start != slices[i].start ||
                                 s.dim[0].step != slices[i].step))) {
            fprintf(stderr, "\"%s\" over %lld: got start %lld step %lld count %llu\n",
                    slices[i].term, slices[i].n, (long long)s.dim[0].start,
                    (long long)s.dim[0].step, (unsigned long long)s.dim[0].count);
            return 1;
        }
        CHECK(!s.dim[0].drop);
    }

    uint64_t shape[3] = {10, 20, 30};
    lsio_selection s;
    /* Integer indices drop, negative ones count from the end. */
    CHECK_OK(lsio_selection_parse("0:10,:,5", 3, shape, &s));
    CHECK_EQ(s.ndim, 3);
    CHECK_EQ(s.dim[2].start, 5);
    CHECK_EQ(s.dim[2].drop, 1);
    uint64_t out[3];
    CHECK_EQ(lsio_selection_shape(&s, out), 2);
    CHECK_EQ(out[0], 10);
    CHECK_EQ(out[1], 20);
    CHECK_EQ(lsio_selection_count(&s), 200);
    CHECK_OK(lsio_selection_parse(" -1 , -20", 3, shape, &s));
    CHECK_EQ(s.dim[0].start, 9);
    CHECK_EQ(s.dim[1].start, 0);
    CHECK_EQ(s.dim[2].count, 30);
    CHECK_EQ(lsio_selection_shape(&s, out), 1);
    /* Ellipsis in front, in the middle; fewer terms; trailing comma; empty. */
    CHECK_OK(lsio_selection_parse("...,3", 3, shape, &s));
    CHECK_EQ(s.dim[0].count, 10);
    CHECK_EQ(s.dim[1].count, 20);
    CHECK_EQ(s.dim[2].start, 3);
    CHECK(s.dim[2].drop);
    CHECK_OK(lsio_selection_parse("1,...,2", 3, shape, &s));
    CHECK(s.dim[0].drop && !s.dim[1].drop && s.dim[2].drop);
    CHECK_OK(lsio_selection_parse("1,2,3,...", 3, shape, &s));
    CHECK_EQ(lsio_selection_count(&s), 1);
    CHECK_OK(lsio_selection_parse("2,", 3, shape, &s));
    CHECK(s.dim[0].drop);
    CHECK_EQ(s.dim[1].count, 20);
    CHECK_OK(lsio_selection_parse("", 3, shape, &s));
    CHECK_EQ(lsio_selection_count(&s), 6000);
    CHECK_OK(lsio_selection_parse("...", 3, shape, &s));
    CHECK_EQ(lsio_selection_count(&s), 6000);
    /* Zero dimensions: "" and "..." select the one element. */
    CHECK_OK(lsio_selection_parse("...", 0, shape, &s));
    CHECK_EQ(s.ndim, 0);
    CHECK_EQ(lsio_selection_count(&s), 1);

    /* Errors name the term and the dimension. */
    expect_error("0,0,30", 3, shape, "\"30\", dimension 2");
    expect_error("-11", 3, shape, "dimension 0");
    expect_error("::0", 3, shape, "step is zero");
    expect_error(":,1:2:0", 3, shape, "\"1:2:0\", dimension 1");
    expect_error("a", 3, shape, "\"a\", dimension 0: malformed");
    expect_error("1:2:3:4", 3, shape, "malformed");
    expect_error("1,,2", 3, shape, "dimension 1: malformed");
    expect_error("1,2,3,4", 3, shape, "more terms");
    expect_error("...,...", 3, shape, "more than one");
    expect_error("99999999999999999999", 3, shape, "malformed");

    /* from_slices: INT64_MIN omits, is_index drops. */
    int64_t st[3] = {INT64_MIN, -1, 2}, sp[3] = {INT64_MIN, INT64_MIN, 0},
            stp[3] = {-2, INT64_MIN, 1};
    int idx[3] = {0, 1, 0};
    CHECK_OK(lsio_selection_from_slices(3, shape, st, sp, stp, idx, &s));
    CHECK_EQ(s.dim[0].start, 9);
    CHECK_EQ(s.dim[0].step, -2);
    CHECK_EQ(s.dim[0].count, 5);
    CHECK_EQ(s.dim[1].start, 19);
    CHECK(s.dim[1].drop);
    CHECK_EQ(s.dim[2].count, 0);
    stp[2] = 0;
    CHECK_EQ(lsio_selection_from_slices(3, shape, st, sp, stp, idx, &s), -LSIO_ESELECTION);
    CHECK(strstr(lsio_last_error(), "dimension 2"));
    st[1] = 20;
    stp[2] = 1;
    CHECK_EQ(lsio_selection_from_slices(3, shape, st, sp, stp, idx, &s), -LSIO_ESELECTION);
    CHECK(strstr(lsio_last_error(), "dimension 1"));

    lsio_selection_all(&s, 3, shape);
    CHECK_EQ(lsio_selection_count(&s), 6000);
    return 0;
}
