/* test_scheduler_lock.c - unit tests for scheduler.lock
 * (spool/scheduler_lock.h): no file means no scheduler ever ran; the
 * holder of the lock is found in /proc/locks with its pid, by a probe
 * that takes no lock itself; a second taker is refused, naming the
 * first; and once the lock is free its mtime says when a scheduler was
 * last seen. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

#include "common/clock.h"
#include "spool/scheduler_lock.h"

static void test_no_lock_file_means_none_ever_ran(void **state)
{
    struct spool s = {(char *)*state};
    struct scheduler_state st;
    scheduler_lock_probe(&s, &st);
    assert_int_equal(st.presence, SCHEDULER_STOPPED);
    assert_true(st.last_seen == 0 && st.pid == 0);
    json_t *j = scheduler_state_json(&s, &st);
    assert_true(json_is_false(json_object_get(j, "running")));
    assert_true(json_is_null(json_object_get(j, "last_seen")));
    json_decref(j);
}

/* In a child: takes the lock, which must be refused naming PID. */
static int second_taker(const struct spool *s, pid_t holder)
{
    struct err e;
    char want[64];
    snprintf(want, sizeof want, "another assay-scheduler (pid %d) is running", (int)holder);
    int fd = scheduler_lock_take(s, &e);
    return fd < 0 && tu_contains(e.msg, want) ? 0 : 1;
}

static void test_the_holder_is_found_without_locking(void **state)
{
    struct spool s = {(char *)*state};
    struct err e;
    double before = clock_wall();
    int fd = scheduler_lock_take(&s, &e);
    assert_true(fd >= 0);
    struct scheduler_state st;
    scheduler_lock_probe(&s, &st);
    assert_int_equal(st.presence, SCHEDULER_RUNNING);
    assert_int_equal(st.pid, getpid());
    assert_true(st.last_seen >= before - 1);   /* taking it marked it seen */

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(second_taker(&s, getppid()));
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* the probe leaves nothing held: another open file takes the lock once it is free */
    close(fd);
    char *path = tu_path(*state, SCHEDULER_LOCK);
    int other = open(path, O_RDWR | O_CLOEXEC);
    scheduler_lock_probe(&s, &st);
    assert_int_equal(st.presence, SCHEDULER_STOPPED);
    assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
    close(other);

    /* last seen: the lock's mtime */
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    scheduler_lock_probe(&s, &st);
    assert_true(st.presence == SCHEDULER_STOPPED && st.last_seen == 1000000000);
    json_t *j = scheduler_state_json(&s, &st);
    assert_string_equal(json_string_value(json_object_get(j, "last_seen")),
                        "2001-09-09T01:46:40.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "lock")), path);
    json_decref(j);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_lock_file_means_none_ever_ran, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_the_holder_is_found_without_locking, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
