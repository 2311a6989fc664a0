/*
 * netns.c - the run's network namespace: loopback only.
 *
 * Each run's PID 1 is cloned with a network namespace of its own
 * (pid1.c), ahead of the run (keeper.c: creating a network namespace is
 * the slowest part of a clone), and brings its loopback up; nothing else
 * is in it, so a run reaches no network, and nothing a run leaves in its
 * namespace (a socket in TIME_WAIT, an abstract socket name) reaches
 * another run: no namespace serves two.
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
