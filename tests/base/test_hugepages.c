/* test_hugepages: lsio__hugepage_policy, whether LSIO asks for transparent
 * huge pages. $LSIO_HUGEPAGES on/off/auto and $LSIO_NO_HUGEPAGES, and in
 * auto the check for a virtio balloon that reports free pages to its host
 * (device 5 bound to a driver, feature bit 5), on fake sysfs trees. */
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

    /* A truncated features file is no report. */
    put("virtio2", "features", "0110\n");
    CHECK_EQ(lsio__hugepage_policy(NULL, NULL, root), 1);

    /* The process-wide answer is one of the two, and stable. */
    int h = lsio_hugepages();
    CHECK(h == 0 || h == 1);
    CHECK_EQ(lsio_hugepages(), h);
    void *p = lsio_alloc_aligned(4096, (size_t)5 << 20);
    CHECK(p != NULL);
    memset(p, 1, (size_t)5 << 20);
    lsio_advise_huge(p, (size_t)5 << 20); /* advising touched memory is harmless */
    lsio_advise_huge(p, 100);             /* less than a huge page: nothing */
    lsio_free_aligned(p);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK_EQ(system(cmd), 0);
    return 0;
}
