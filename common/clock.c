/*
 * clock.c - time for timing runs and stamping records.
 *
 * Durations use the monotonic clock; stamps written to job and result
 * files are UTC ISO 8601 with milliseconds, because a file's ctime is
 * reset by every rename and cannot tell how long a job waited.
 */
#define _GNU_SOURCE
#include "common/clock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

double clock_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double clock_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_iso8601(double t, char out[32])
{
    long long total = llround(t * 1000.0), secs_ll = total / 1000, ms = total % 1000;
    if (ms < 0) {
        secs_ll--;
        ms += 1000;
    }
    time_t secs = (time_t)secs_ll;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
    snprintf(out, 32, "%.31s", tmp);
}

/* True if S starts with exactly the characters of SHAPE, 'd' standing for a digit. */
static bool has_shape(const char *s, const char *shape)
{
    for (; *shape; s++, shape++) {
        if (*shape == 'd' ? (*s < '0' || *s > '9') : *s != *shape)
            return false;
    }
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool clock_parse_iso8601(const char *s, double *out)
{
    int y, mo, d, h, mi, sec, used = 0;
    if (!has_shape(s, "dddd-dd-ddTdd:dd:dd") ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 ||
        used != 19)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return false;
    const char *p = s + used;
    double frac = 0;
    if (*p == '.') {
        double scale = 0.1;
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9') {
            frac += (*p++ - '0') * scale;
            scale /= 10;
        }
    }
    long offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, n = 0;
        if (!has_shape(p + 1, "dd:dd") || sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 ||
            n != 5 || oh > 23 || om > 59)
            return false;
        offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    *out = (double)(timegm(&tm) - offset) + frac;
    return true;
}
