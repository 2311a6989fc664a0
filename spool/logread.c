/*
 * logread.c - the one reader of the central log and stack-trace log
 * (logs/assay.log, logs/traces.log, written by common/log.c and
 * common/crash.c): which lines a filter keeps, for `assay logs` and the
 * web console's admin pages, which read only the end of a long log.
 */
#define _GNU_SOURCE
#include "spool/logread.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"

/* Fields of a log line: 0 time, 1 process, 2 worker, 3 job, 4 level. */
bool log_line_matches(const char *line, const struct log_filter *f)
{
    char time[40], proc[80], worker[80], job[128], level[16];
    if (sscanf(line, "%39s %79s %79s %127s %15s", time, proc, worker, job, level) != 5)
        return !f->job && !f->worker && !f->errors && f->since == 0 && !f->course;
    double t;
    if (f->since > 0 && (!clock_parse_iso8601(time, &t) || t < f->since))
        return false;
    if (f->job && strcmp(job, f->job))
        return false;
    if (f->worker && strcmp(worker, f->worker))
        return false;
    if (f->errors && strcmp(level, "error"))
        return false;
    if (f->course) {
        char want[80];
        snprintf(want, sizeof want, "%.64s/", f->course);
        const char *msg = strstr(line, level);
        return msg && strstr(msg, want) != NULL;
    }
    return true;
}

bool log_trace_matches(const char *line, const struct log_filter *f)
{
    char want[300];
    if (f->job) {
        snprintf(want, sizeof want, " job %s]", f->job);
        return strstr(line, want) != NULL;
    }
    if (f->worker) {
        snprintf(want, sizeof want, "[worker %s ", f->worker);
        return strstr(line, want) != NULL;
    }
    return f->errors || (!f->job && !f->worker && f->since == 0);
}

double log_parse_since(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    double unit = !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600
                : !strcmp(end, "d") ? 86400 : -1;
    return v <= 0 || unit < 0 ? -1 : v * unit;
}

/* The last TAIL bytes of FD from the first whole line, into B. */
static int read_tail(int fd, size_t tail, struct buf *b)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    off_t from = st.st_size > (off_t)tail ? st.st_size - (off_t)tail : 0;
    char chunk[65536];
    ssize_t n;
    while ((n = pread(fd, chunk, sizeof chunk, from)) > 0) {
        if (buf_append(b, chunk, (size_t)n) < 0)
            return -1;
        from += n;
        if (b->len >= tail)
            break;
    }
    return n < 0 ? -1 : 0;
}

int log_read_matching(const struct spool *s, const char *name, const struct log_filter *f,
                      size_t tail, size_t max_lines, struct buf *out)
{
    char *path = spool_path(s, "logs/%s", name);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    free(path);
    if (fd < 0)
        return -1;
    struct buf b = BUF_INIT;
    int rc = read_tail(fd, tail, &b);
    close(fd);
    bool traces = !strcmp(name, "traces.log");
    char *text = b.data ? b.data : "", *save = NULL;
    if (b.len == tail && strchr(text, '\n'))
        text = strchr(text, '\n') + 1;   /* the first line was cut */
    size_t kept = 0, *starts = NULL, cap = 0;
    struct buf all = BUF_INIT;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!(traces ? log_trace_matches(line, f) : log_line_matches(line, f)))
            continue;
        if (kept == cap) {
            size_t *v = realloc(starts, (cap = cap ? cap * 2 : 256) * sizeof *v);
            if (!v)
                break;
            starts = v;
        }
        starts[kept++] = all.len;
        buf_printf(&all, "%s\n", line);
    }
    size_t first = kept > max_lines ? kept - max_lines : 0;
    if (kept && buf_puts(out, buf_str(&all) + starts[first]) < 0)
        rc = -1;
    free(starts);
    buf_free(&all);
    buf_free(&b);
    return rc;
}
