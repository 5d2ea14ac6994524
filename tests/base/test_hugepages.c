/* test_hugepages: lsio__hugepage_policy, whether LSIO asks for transparent
 * huge pages. $LSIO_HUGEPAGES on/off/auto and $LSIO_NO_HUGEPAGES, and in
 * auto the check for a virtio balloon that reports free pages to its host
 * (device 5 bound to a driver, feature bit 5), on fake sysfs trees; and
 * lsio_read_line, the sysfs reader it shares with the Zarr reader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lsio_base.h"
#include "testutil.h"

static char root[256];

static void put(const char *dev, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, dev);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", root, dev, name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void bind_driver(const char *dev)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s/driver", root, dev);
    CHECK_EQ(symlink("../../drivers/virtio_test", p), 0); /* dangling, as a fake tree's would be */
}

/* features: bit i is character i of the string, as sysfs prints them */
static const char *REPORTING = "0110010100000000000000000000000010000000\n";
static const char *NO_REPORTING = "0110000100000000000000000000000010000000\n";

int main(void)
{
    snprintf(root, sizeof root, "/tmp/lsio_test_hugepages_%d", (int)getpid());
    mkdir(root, 0755);

    /* No virtio devices (bare metal, most clouds): on. */
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, "/nonexistent/virtio"), 1);
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, root), 1);

    /* A block device and a net device: on. */
    put("virtio1", "device", "0x0002\n");
    put("virtio1", "features", REPORTING); /* bit 5 of another device means nothing */
    bind_driver("virtio1");
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, root), 1);

    /* A balloon without free page reporting: on. */
    put("virtio0", "device", "0x0005\n");
    put("virtio0", "features", NO_REPORTING);
    bind_driver("virtio0");
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, root), 1);

    /* A balloon that reports but has no driver bound: on. */
    put("virtio2", "device", "0x0005\n");
    put("virtio2", "features", REPORTING);
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, root), 1);

    /* Bound: free pages go back to the host, so off. */
    bind_driver("virtio2");
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, root), 0);
    CHECK_EQ(lsio__hugepage_policy("auto", NULL, root), 0);
    CHECK_EQ(lsio__hugepage_policy("", NULL, root), 0);

    /* The settings win over the check, either way. */
    CHECK_EQ(lsio__hugepage_policy("on", NULL, root), 1);
    CHECK_EQ(lsio__hugepage_policy("1", "1", root), 1);
    CHECK_EQ(lsio__hugepage_policy("off", NULL, "/nonexistent/virtio"), 0);
    CHECK_EQ(lsio__hugepage_policy("0", NULL, "/nonexistent/virtio"), 0);
    CHECK_EQ(lsio__hugepage_policy(NULL, "1", "/nonexistent/virtio"), 0);
    CHECK_EQ(lsio__hugepage_policy(NULL, "0", "/nonexistent/virtio"), 1);
    CHECK_EQ(lsio__hugepage_policy("auto", "1", "/nonexistent/virtio"), 0);

    /* lsio_read_line, which the check reads sysfs with: newline dropped,
     * truncated to the buffer, -1 for a missing or empty file. */
    char line[8], path[512];
    snprintf(path, sizeof path, "%s/virtio0/device", root);
    CHECK_EQ(lsio_read_line(path, line, sizeof line), 0);
    CHECK(!strcmp(line, "0x0005"));
    CHECK_EQ(lsio_read_line(path, line, 4), 0);
    CHECK(!strcmp(line, "0x0"));
    put("virtio9", "empty", "");
    snprintf(path, sizeof path, "%s/virtio9/empty", root);
    CHECK_EQ(lsio_read_line(path, line, sizeof line), -1);
    CHECK_EQ(lsio_read_line("/nonexistent/file", line, sizeof line), -1);

    /* A truncated features file is no report. */
    put("virtio2", "features", "0110\n");
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, root), 1);

    /* The process-wide answer: forced on here (unless the caller set it),
     * so that the mapped path of lsio_alloc_aligned runs on every machine,
     * under ASan too; decided once and stable. */
    int forced = !getenv("LSIO_HUGEPAGES") && !getenv("LSIO_NO_HUGEPAGES");
    if (forced)
        setenv("LSIO_HUGEPAGES", "on", 1);
    int h = lsio_hugepages();
    CHECK(h == 0 || h == 1);
    if (forced)
        CHECK_EQ(h, 1);
    setenv("LSIO_HUGEPAGES", h ? "off" : "on", 1);
    CHECK_EQ(lsio_hugepages(), h);

    /* Sizes around the 2 MiB page and alignments up to 4 MiB, every byte
     * written, blocks freed in another order than allocated. */
    const size_t MiB = (size_t)1 << 20;
    const size_t sizes[] = {100, 2 * MiB - 1, 2 * MiB, 2 * MiB + 1, 5 * MiB, 5 * MiB + 4095, 9 * MiB};
    const size_t aligns[] = {16, 4096, 2 * MiB, 4 * MiB};
    enum { NS = sizeof sizes / sizeof sizes[0], NA = sizeof aligns / sizeof aligns[0] };
    void *blocks[NS * NA];
    for (size_t i = 0; i < NS; i++)
        for (size_t j = 0; j < NA; j++) {
            void *p = lsio_alloc_aligned(aligns[j], sizes[i]);
            CHECK(p != NULL);
            CHECK_EQ((uintptr_t)p % aligns[j], 0);
            memset(p, (int)(i * NA + j), sizes[i]);
            lsio_advise_huge(p, sizes[i]); /* advising touched memory is harmless */
            lsio_advise_huge(p, 100);      /* less than a huge page: nothing */
            blocks[i * NA + j] = p;
        }
    for (size_t k = 0; k < NS * NA; k++) {
        size_t b = (k * 5) % (NS * NA); /* 5 is prime to 28: each block once */
        unsigned char *p = blocks[b];
        size_t n = sizes[b / NA];
        CHECK(p[0] == (unsigned char)b && p[n - 1] == (unsigned char)b);
        lsio_free_aligned(p);
    }
    lsio_free_aligned(NULL);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK_EQ(system(cmd), 0);
    return 0;
}
