/* cli_util.c — progress bar, sizes, clocks shared by the subcommands. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_isatty_stderr(void) { return isatty(2); }

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress(const char *what, double done, double total, double start_s)
{
    static double last;
    if (!cli_isatty_stderr())
        return;
    double now = cli_now_s();
    if (done < total && now - last < 0.1)
        return;
    last = now;
    double frac = total > 0 ? done / total : 1.0;
    if (frac > 1)
        frac = 1;
    int width = 30, fill = (int)(frac * width);
    double el = now - start_s;
    fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %.1f s", what, fill,
            "##############################", width - fill, "", frac * 100, el);
    fflush(stderr);
}

void cli_progress_end(void)
{
    if (cli_isatty_stderr())
        fprintf(stderr, "\r\033[K");
}

long long cli_parse_size(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    double mul = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'k': mul = 1024.0; end++; break;
    case 'm': mul = 1024.0 * 1024; end++; break;
    case 'g': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    case 'b': break;
    default: return -1;
    }
    if (*end && strcasecmp(end, "b") && strcasecmp(end, "ib") && strcasecmp(end, "i"))
        return -1;
    return (long long)(v * mul);
}
