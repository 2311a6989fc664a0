/* test_pytest_count.c - unit tests for counting a pytest file's tests from
 * its text (engine/kinds/pytest_count.c), the maximum a pytest test has
 * before any run: the same count the runner gives a file it cannot
 * import (functions, Test* classes, unittest.TestCase subclasses of any
 * name with inherited methods, literal parametrize lists), and none for
 * a helper module.  Strings, comments and continuation lines must not
 * be taken for code. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "engine/kinds/pytest_count.h"

static void test_functions_and_parametrize(void **state)
{
    (void)state;
    assert_int_equal(pytest_count_tests("def test_a():\n    pass\n\nasync def test_b():\n    pass\n"
                                        "def helper():\n    def test_inner():\n        pass\n"), 2);
    assert_int_equal(pytest_count_tests(
        "import pytest\n\n"
        "@pytest.mark.parametrize('x', [1, 2, 3])\n"
        "@pytest.mark.parametrize('y,z', [(1, 2), (3, 4)])\n"
        "def test_grid(x, y, z):\n    pass\n"), 6);
    /* across lines, with comments, strings holding brackets and commas,
     * a trailing comma, and keywords after the list */
    assert_int_equal(pytest_count_tests(
        "@pytest.mark.parametrize(\n"
        "    \"s\",  # the inputs, one per case\n"
        "    [\n"
        "        \"a, b\",\n"
        "        '[(' ,  # not a bracket\n"
        "        \"\"\"x\n,y\"\"\",\n"
        "    ],\n"
        "    ids=['p', 'q', 'r'],\n"
        ")\n"
        "def test_s(s):\n    pass\n"), 3);
    /* a list made by code, or argvalues by keyword: one, as the runner counts it */
    assert_int_equal(pytest_count_tests("@pytest.mark.parametrize('n', [c for c in CASES])\n"
                                        "def test_c(n):\n    pass\n"
                                        "@pytest.mark.parametrize('n', argvalues=[1, 2])\n"
                                        "def test_k(n):\n    pass\n"
                                        "@pytest.mark.parametrize('n', CASES)\n"
                                        "def test_v(n):\n    pass\n"), 3);
}

static void test_classes(void **state)
{
    (void)state;
    assert_int_equal(pytest_count_tests(
        "import unittest\nfrom unittest import TestCase\n\n"
        "class Checks(unittest.TestCase):\n"
        "    \"\"\"def test_in_docstring(self):\"\"\"\n"
        "    def test_one(self):\n        pass\n"
        "    def test_two(self):\n        def test_nested():\n            pass\n"
        "    def helper(self):\n        pass\n\n"
        "class More(Checks):\n    def test_three(self):\n        pass\n"
        "    def test_one(self):\n        pass\n\n"
        "class edge(TestCase):\n"
        "    @pytest.mark.parametrize('x', [1, 2])\n"
        "    def test_p(self, x):\n        pass\n\n"
        "@pytest.mark.parametrize('v', [1, 2])\n"
        "class TestTable:\n"
        "    @pytest.mark.parametrize('x', [4, 5, 6])\n"
        "    def test_row(self, x, v):\n        pass\n"
        "    def test_plain(self, v):\n        pass\n\n"
        "class TestWithInit:\n    def __init__(self):\n        pass\n"
        "    def test_never(self):\n        pass\n\n"
        "class Helper:\n    def test_not(self):\n        pass\n"),
        /* Checks 2, More 3 (test_one overridden), edge 1 (unittest ignores
         * parametrize), TestTable 2 * (3 + 1) */
        2 + 3 + 1 + 8);
}

static void test_a_helper_module_has_none(void **state)
{
    (void)state;
    assert_int_equal(pytest_count_tests("from sol import f\n\n\ndef double_all(xs):\n"
                                        "    return [f(x) for x in xs]\n"), 0);
    assert_int_equal(pytest_count_tests(""), 0);
    assert_int_equal(pytest_count_tests("x = '''\ndef test_fake():\n'''\n# def test_comment():\n"), 0);
    /* broken text counts what it can, and never reads past its end */
    assert_int_equal(pytest_count_tests("def test_a(:\n    '''never closed\ndef test_b():\n"), 1);
    assert_int_equal(pytest_count_tests("@pytest.mark.parametrize('x', [1, 2"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_functions_and_parametrize),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_a_helper_module_has_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
