/*
 * ids.c - identifiers: job ids and attempt tokens.
 *
 * A job id starts with its UTC creation time, so a directory listing
 * sorts jobs by age, and ends with random hex so ids made in the same
 * millisecond differ.  Attempt tokens are 128 random bits: a result is
 * recorded only if it carries the token of the job's current attempt.
 */
#define _GNU_SOURCE
#include "common/ids.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/clock.h"

void ids_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(raw + got, nbytes - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void ids_job_id(char out[40])
{
    double now = clock_wall();
    time_t secs = (time_t)now;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char rnd[7];
    ids_random_hex(rnd, 3);
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d%02d%02dT%02d%02d%02d.%03dZ-%s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)((now - (double)secs) * 1000) % 1000, rnd);
    snprintf(out, 40, "%.39s", tmp);
}
