"""What teachers converting existing assignments need, end to end.

io tests for programming-contest "file I/O" tasks (an input file put in
the work directory under the name the program opens, the file it writes
compared instead of its standard output, no shell wrapper); a check step
("stop_if_failed") whose failure stops the tests after it with one
message; required_files patterns ("*.py"); and the mistakes in each
refused with the field.
"""
from assay_helpers import by_name, grade, grade_json

# reads problem.in (two numbers a line), writes their sums to problem.out
SUMS = ("with open('problem.in') as f, open('problem.out', 'w') as out:\n"
        "    for line in f:\n"
        "        a, b = map(int, line.split())\n"
        "        print(a + b, file=out)\n")
FILE_IO = {"name": "sums", "kind": "io", "points": 2, "command": "python3 sums.py",
           "input_file": "tests/1.in", "input_name": "problem.in", "output_file": "problem.out",
           "expected_output_file": "tests/1.out"}
FILES = {"tests/1.in": "1 2\n3 4\n", "tests/1.out": "3\n7\n", "tests/2.in": "10 20\n"}


def test_file_io_task(make_assignment, make_submission):
    second = dict(FILE_IO, name="second", input_file="tests/2.in", expected_output="30\n")
    del second["expected_output_file"]
    d = make_assignment([FILE_IO, second], files=FILES)
    r, _ = grade_json(d, make_submission({"sums.py": SUMS}))
    assert (r["score"], r["max_score"]) == (4, 4), r["tests"]
    # a stale problem.in in the submission is replaced by the test's
    r, _ = grade_json(d, make_submission({"sums.py": SUMS, "problem.in": "100 100\n"}))
    assert (r["score"], r["max_score"]) == (4, 4), r["tests"]

    wrong = SUMS.replace("a + b", "a * b")
    r, _ = grade_json(d, make_submission({"sums.py": wrong}))
    t = by_name(r)["sums"]
    assert (t["score"], t["verdict"]) == (0, "failed")
    assert t["output"].startswith("In the file problem.out:\nThe output is wrong.\n")

    silent = "print('3')\nprint('7')\n"   # the right answer, on standard output
    r, _ = grade_json(d, make_submission({"sums.py": silent}))
    t = by_name(r)["sums"]
    assert t["verdict"] == "failed"
    assert t["output"].startswith("The program did not write the file problem.out, where its "
                                  "answer should go")


def test_file_io_mistakes_are_refused(make_assignment, make_submission):
    bad = dict(FILE_IO, output_file="../x.out", input_name="sub/problem.in",
               expected_stdout="3\n")
    d = make_assignment([bad, {"name": "orphan", "kind": "io", "command": "true",
                               "expected_stdout": "", "expected_output": "x"}], files=FILES)
    code, _, err = grade(d, make_submission({"sums.py": SUMS}))
    assert code == 3
    for problem in ['$.tests[0].output_file: "../x.out" must be a plain file name in the work '
                    'directory, such as "problem.out"',
                    '$.tests[0].input_name: "sub/problem.in" must be a plain file name',
                    '$.tests[0]: with "output_file" the file is compared, not standard output',
                    '$.tests[1]: "expected_output" is what "output_file" should hold']:
        assert problem in err, err


def test_a_failed_check_stops_the_tests_after_it(make_assignment, make_submission):
    tests = [{"name": "compiles", "kind": "command", "points": 0,
              "command": "python3 -m py_compile hello.py", "stop_if_failed": True},
             {"name": "greets", "kind": "io", "points": 2, "command": "python3 hello.py",
              "expected_stdout": "hi\n"},
             {"name": "greets again", "kind": "io", "points": 3, "command": "python3 hello.py",
              "expected_stdout": "hi\n"}]
    d = make_assignment(tests)
    r, _ = grade_json(d, make_submission({"hello.py": "print('hi')\n"}))
    assert (r["score"], r["max_score"]) == (5, 5)
    r, _ = grade_json(d, make_submission({"hello.py": "print('hi'\n"}))
    assert (r["score"], r["max_score"]) == (0, 5)
    t = by_name(r)
    assert "SyntaxError" in t["compiles"]["output"]
    for name in ("greets", "greets again"):
        assert t[name]["verdict"] == "setup_error"
        assert t[name]["output"] == ('Not run: the test "compiles" did not pass, and the tests '
                                     'after it run only when it does (see its feedback above).\n')
        assert "SyntaxError" not in t[name]["output"]
    assert r["assay"]["status"] == "graded"
    bad = make_assignment([dict(tests[0], stop_if_failed="yes")])
    code, _, err = grade(bad, make_submission({"hello.py": "print('hi')\n"}))
    assert code == 3 and '$.tests[0]: "stop_if_failed" must be true' in err


def test_required_file_patterns(make_assignment, make_submission):
    d = make_assignment([{"name": "t", "kind": "command", "points": 1, "command": "true"}],
                        required_files=["*.py", "README.md"])
    r, _ = grade_json(d, make_submission({"any_name.py": "x = 1\n", "README.md": "hi"}))
    assert (r["score"], r["assay"]["error"]) == (1, None)
    r, _ = grade_json(d, make_submission({"notes.txt": "x", "README.md": "hi"}))
    err = r["assay"]["error"]
    assert err["category"] == "submission"
    assert err["message"].startswith("The submission has no file matching *.py, which the "
                                     "assignment requires (it holds: ")
    # a single top folder is unwrapped for patterns too
    r, _ = grade_json(d, make_submission({"hw/main.py": "x = 1\n", "hw/README.md": "hi"}))
    assert (r["score"], r["assay"]["error"]) == (1, None)
