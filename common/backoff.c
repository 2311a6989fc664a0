/*
 * backoff.c - exponential backoff, the one formula every retry uses.
 *
 * A deferred job (the shipper), a child process that keeps dying (the
 * scheduler), an SSH session that cannot be opened (the SSH transport), a
 * worker that does not answer its probe and a job stuck in its slot (the
 * shipper) all wait FIRST, then twice as long after each further
 * failure, up to a ceiling: a brief fault costs a second, a long outage
 * costs a retry every MAX seconds instead of a busy loop.  Each caller
 * counts its consecutive failures and asks for the wait.
 */
#include "common/backoff.h"

double backoff_delay(int failures, double first, double max)
{
    if (failures < 1)
        return 0;
    double d = first;
    for (int i = 1; i < failures && d < max; i++)
        d *= 2;
    return d < max ? d : max;
}
