/* test_errors: error codes name themselves and messages carry context. */
#include <errno.h>

#include "lsio_base.h"
#include "testutil.h"

int main(void)
{
    CHECK(strcmp(lsio_strerror(0), "success") == 0);
    CHECK(strstr(lsio_strerror(-ENOENT), "No such file") != NULL);
    CHECK(strcmp(lsio_strerror(-LSIO_ECODEC), lsio_strerror(LSIO_ECODEC)) == 0);
    CHECK(strstr(lsio_strerror(-LSIO_ECHECKSUM), "checksum") != NULL);
    CHECK(strcmp(lsio_strerror(-999999), "unknown error") == 0);

    int rc = lsio_error(-ENOENT, "open %s", "/no/such");
    CHECK_EQ(rc, -ENOENT);
    CHECK(strcmp(lsio_last_error(), "open /no/such: No such file or directory") == 0);
    lsio_error_clear();
    CHECK(lsio_last_error()[0] == '\0');

    char *m = lsio_error_msg(-LSIO_ERANGE, "read %s [%d, %d)", "f", 1, 2);
    CHECK(m && strcmp(m, "read f [1, 2): byte range outside the object") == 0);
    free(m);

    size_t out;
    CHECK_EQ(lsio_mul_size(SIZE_MAX, 2, &out), -EOVERFLOW);
    CHECK_OK(lsio_mul_size(3, 4, &out));
    CHECK_EQ(out, 12);
    CHECK(lsio_ncpus() >= 1);
    void *p = lsio_alloc_aligned(4096, 100);
    CHECK(p && ((uintptr_t)p % 4096) == 0);
    lsio_free_aligned(p);
    return 0;
}
