/*
 * seccomp.c - the system-call filter every sandboxed command runs under.
 *
 * The filter allows by default and refuses, with EPERM, what student code
 * never needs and what widens the kernel surface it can reach: debugging
 * other processes, mounting, namespaces, keyrings, BPF, perf, io_uring,
 * kernel modules and kexec, and the terminal ioctls that inject input.
 * Other architectures' system calls (i386 via int 0x80, x32) kill the
 * process.  libseccomp compiles it once, when the launcher is created
 * (sandbox_filter_build); each run only loads the compiled program
 * (sandbox_filter_apply) in the child just before exec, after
 * no_new_privs, so the child allocates nothing.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Refused outright (EPERM). */
static const char *const denied[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr",
    "unshare", "setns",
    "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "vhangup",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "sethostname", "setdomainname", "iopl", "ioperm", "personality",
    NULL,
};

/* clone() flags that would make new namespaces. */
static const unsigned long namespace_flags[] = {
    CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
    CLONE_NEWUTS, CLONE_NEWCGROUP,
};

static int deny_by_name(scmp_filter_ctx ctx, struct err *e)
{
    for (int i = 0; denied[i]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;   /* not on this architecture */
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        if (rc < 0)
            return err_set(e, "seccomp: cannot refuse %s: %s", denied[i], strerror(-rc));
    }
    return 0;
}

static int deny_namespaces(scmp_filter_ctx ctx, struct err *e)
{
    for (size_t i = 0; i < sizeof namespace_flags / sizeof *namespace_flags; i++) {
        unsigned long f = namespace_flags[i];
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
        if (rc < 0)
            return err_set(e, "seccomp: cannot restrict clone: %s", strerror(-rc));
    }
    /* clone3 passes its flags in memory, out of a filter's reach: say it
     * does not exist, and the C library falls back to clone(). */
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    return rc < 0 ? err_set(e, "seccomp: cannot refuse clone3: %s", strerror(-rc)) : 0;
}

static int deny_ioctls(scmp_filter_ctx ctx, struct err *e)
{
    /* The kernel reads the request as 32 bits: compare only those. */
    static const unsigned long requests[] = {TIOCSTI, TIOCLINUX};
    for (size_t i = 0; i < 2; i++) {
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, requests[i]));
        if (rc < 0)
            return err_set(e, "seccomp: cannot restrict ioctl: %s", strerror(-rc));
    }
    return 0;
}

/* Exports CTX's BPF program into *PROG (malloc'd instructions). */
static int export_program(scmp_filter_ctx ctx, struct sock_fprog *prog, struct err *e)
{
    int fd = memfd_create("assay-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return err_sys(e, "seccomp: cannot create a memfd");
    int rc = seccomp_export_bpf(ctx, fd);
    off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    struct sock_filter *insns = size > 0 ? malloc((size_t)size) : NULL;
    if (rc < 0 || !insns || pread(fd, insns, (size_t)size, 0) != size) {
        free(insns);
        close(fd);
        return err_set(e, "seccomp: cannot export the filter");
    }
    close(fd);
    prog->filter = insns;
    prog->len = (unsigned short)((size_t)size / sizeof *insns);
    return 0;
}

int sandbox_filter_build(struct sock_fprog *prog, struct err *e)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return err_set(e, "seccomp: cannot create a filter");
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);   /* we set no_new_privs ourselves */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    /* A binary tree of system-call numbers rather than a list: the kernel
     * runs the program for every number when it loads it (to find those
     * it can allow without running it), and loading took half the time. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc < 0)
        err_set(e, "seccomp: cannot set the filter's attributes: %s", strerror(-rc));
    else
        rc = deny_by_name(ctx, e);
    if (rc == 0)
        rc = deny_namespaces(ctx, e);
    if (rc == 0)
        rc = deny_ioctls(ctx, e);
    if (rc == 0)
        rc = export_program(ctx, prog, e);
    seccomp_release(ctx);
    return rc < 0 ? -1 : 0;
}

void sandbox_filter_free(struct sock_fprog *prog)
{
    free(prog->filter);
    prog->filter = NULL;
    prog->len = 0;
}

int sandbox_filter_apply(const struct sock_fprog *prog)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0);
}
