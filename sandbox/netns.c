/*
 * netns.c - the run's network namespace: loopback only, made ahead.
 *
 * Creating a network namespace is the slowest part of starting a run
 * (about 0.7 ms of a ~1.3 ms clone3 here).  So on a v1 host the keeper
 * (keeper.c) makes the namespace for the NEXT run while the current one
 * runs, brings its loopback up, and keeps it as an fd; to start the run
 * it steps into that namespace (setns), clones PID 1 without
 * CLONE_NEWNET, and steps back.  Each namespace serves exactly one run
 * and is made after the previous run started, so nothing a run leaves in
 * its namespace (a socket in TIME_WAIT, an abstract socket name) can
 * reach another run.  The namespace is owned by the host's user
 * namespace: the run, root of nothing there, cannot reconfigure it.
 * Where no spare exists (the v2 path, or a failure) PID 1 is cloned
 * with CLONE_NEWNET and calls netns_loopback_up itself.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <fcntl.h>
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

int netns_spare_init(struct netns_spare *n)
{
    n->next = -1;
    n->host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    return n->host < 0 ? -1 : 0;
}

int netns_spare_make(struct netns_spare *n)
{
    if (n->next >= 0)
        return 0;
    if (n->host < 0 || unshare(CLONE_NEWNET) < 0)
        return -1;
    int fd = netns_loopback_up() == 0 ? open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC) : -1;
    if (setns(n->host, CLONE_NEWNET) < 0)
        _exit(1);   /* a keeper stuck in a run's namespace must not go on */
    n->next = fd;
    return fd < 0 ? -1 : 0;
}

int netns_spare_enter(struct netns_spare *n)
{
    if (netns_spare_make(n) < 0 || setns(n->next, CLONE_NEWNET) < 0)
        return -1;
    close(n->next);   /* used up: the run's PID 1 holds it from now on */
    n->next = -1;
    return 0;
}

void netns_spare_leave(struct netns_spare *n)
{
    if (setns(n->host, CLONE_NEWNET) < 0)
        _exit(1);
}
