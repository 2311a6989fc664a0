/* pytest_count.h - how many tests pytest would collect from a test file,
 * read from its text (for the maximum before any run). */
#ifndef ASSAY_KINDS_PYTEST_COUNT_H
#define ASSAY_KINDS_PYTEST_COUNT_H

#include <stddef.h>

/* The tests in the Python source TEXT as engine/python/pytest_runner.py's
 * test_names counts them when a file cannot be imported: functions
 * test*, methods test* of classes Test* without __init__ and of
 * unittest.TestCase subclasses (inherited ones included), parametrized
 * ones once per value of a literal list.  0 for a helper module. */
size_t pytest_count_tests(const char *text);

#endif
