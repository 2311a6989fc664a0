/*
 * netns.c - the run's network namespace: loopback only.
 *
 * Each run's PID 1 is cloned with a network namespace of its own
 * (pid1.c), ahead of the run (keeper.c: creating a network namespace is
 * the slowest part of a clone), and brings its loopback up; nothing else
 * is in it, so a run reaches no network, and nothing a run leaves in its
 * namespace (a socket in TIME_WAIT, an abstract socket name) reaches
 * another run: no namespace serves two.
 *
 * The keeper first moves into a network namespace of its own
 * (netns_keeper_enter), so that each run's namespace gets a TCP hash table
 * of its own.  When a network namespace dies the kernel purges its
 * TIME_WAIT sockets from its TCP table; a namespace that shares the
 * host's table (the default) has the whole of it walked, 262144 buckets
 * on a 24 GiB host, about 0.35 ms of a kernel worker's CPU per run.  A
 * namespace made from one whose net.ipv4.tcp_child_ehash_entries is set
 * gets a table of that size instead (Linux 6.1 and later), and a run's
 * connections stay out of the host's table too.  The setting is made in
 * the keeper's namespace, not the host's, so nothing else on the host
 * changes.  The keeper's namespace holds nothing (its loopback stays
 * down): the keeper talks only over socket pairs.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <fcntl.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int netns_loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int rc = s < 0 ? -1 : ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    if (s >= 0)
        close(s);
    return rc;
}

/* A run's TCP table: 1024 buckets.  The kernel keeps at most half as
 * many sockets in TIME_WAIT in it (a connection closed beyond that skips
 * TIME_WAIT); established connections have no such limit. */
#define RUN_TCP_BUCKETS "1024"

int netns_keeper_enter(void)
{
    if (unshare(CLONE_NEWNET) < 0)
        return -1;
    int fd = open("/proc/sys/net/ipv4/tcp_child_ehash_entries", O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, RUN_TCP_BUCKETS, strlen(RUN_TCP_BUCKETS));
    int saved = errno;
    if (fd >= 0)
        close(fd);
    errno = saved;
    return n < 0 ? -1 : 0;
}
