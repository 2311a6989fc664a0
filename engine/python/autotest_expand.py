"""Assay's expansion of nbgrader's ### AUTOTEST lines.

Usage (by `assay notebook release`, on the instructor's machine):
    python3 -I autotest_expand.py SOURCE.ipynb AUTOTESTS.yml > EXPANDED.ipynb

A test cell line "### AUTOTEST square(2); mean([1, 2])" (or "### HASHED
AUTOTEST ...") stands for assertions generated from the values the
instructor's solution gives, with the templates of autotests.yml, as
nbgrader's generate_assignment makes them: the source notebook's code
cells run in order in one IPython shell (the instructor's own code, in
the source notebook's folder, as nbgrader runs it); for each snippet
the "dispatch" template picks the templates of the value's type (or
"default"), each test template is wrapped in "normalize" (and, for a
HASHED line, in "hash" with a fresh random salt), evaluated, and the
"check" template turns it and its value into an assertion; the cell
gets the "setup" code before its first generated line and the "success"
code at its end.  The expanded notebook goes to standard output; a
problem (a missing template, a snippet that raises) is one line on
standard error, "autotests: ...", and exit status 2.

Templates are rendered with {{ name }} substitution only (snippet,
value, message, salt), which is all nbgrader's templates use; Jinja
statements and filters are refused rather than rendered differently.
"""
import json
import os
import re
import secrets
import sys

DELIMITER = "AUTOTEST"
HASHED = "HASHED"
KERNELS = ("python3", "python")
REQUIRED = ("templates", "dispatch", "success", "hash", "check", "normalize")
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")


class Problem(Exception):
    pass


def render(template, **values):
    """TEMPLATE with each {{ name }} replaced by str(VALUES[name])."""
    if not isinstance(template, str):
        raise Problem("a template is not a string: %r" % (template,))
    rest = VARIABLE.sub("", template)
    if "{%" in rest or "{{" in rest or "{#" in rest:
        raise Problem("the template %r uses Jinja statements or filters, which Assay does not "
                      "render; use only {{ snippet }}, {{ value }}, {{ message }} and "
                      "{{ salt }}" % template)

    def value(m):
        if m.group(1) not in values:
            raise Problem("the template %r uses {{ %s }}, which is not defined here"
                          % (template, m.group(1)))
        return str(values[m.group(1)])
    return VARIABLE.sub(value, template)


def load_templates(path, kernel):
    try:
        import yaml
    except ImportError as exc:
        raise Problem("Python's yaml module is missing (Debian package python3-yaml): %s" % exc)
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as exc:
        raise Problem("cannot read %s: %s" % (path, exc.strerror))
    except yaml.YAMLError as exc:
        raise Problem("%s is not valid YAML: %s" % (path, exc))
    section = doc.get(kernel) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise Problem("%s has no \"%s\" section (the notebook's kernel)" % (path, kernel))
    for key in REQUIRED:
        if key not in section:
            raise Problem("%s: \"%s\" has no \"%s\" template" % (path, kernel, key))
    templates = section["templates"]
    if not isinstance(templates, dict) or not isinstance(templates.get("default"), list):
        raise Problem("%s: \"%s\".templates needs a \"default\" list" % (path, kernel))
    for kind, tests in templates.items():
        if not isinstance(tests, list) or not all(
                isinstance(t, dict) and "test" in t and "fail" in t for t in tests):
            raise Problem("%s: templates.%s must be a list of {test, fail}" % (path, kind))
    return section


class Shell:
    """The instructor's notebook state: one IPython shell."""

    def __init__(self):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config
        cfg = Config()
        cfg.HistoryManager.enabled = False
        cfg.InteractiveShell.colors = "NoColor"
        self.shell = InteractiveShell.instance(config=cfg)

    def run(self, code, where):
        """Runs CODE; the text/plain of its value with quotes stripped, as
        nbgrader's sanitizer gives it, or None when it has none."""
        saved = sys.stdout
        sys.stdout = open(os.devnull, "w")
        try:
            result = self.shell.run_cell(code, store_history=False, silent=False)
        finally:
            sys.stdout.close()
            sys.stdout = saved
        err = result.error_before_exec or result.error_in_exec
        if err is not None:
            raise Problem("%s: running %r raised %s: %s" % (where, code, type(err).__name__, err))
        if result.result is None:
            return None
        data, _ = self.shell.display_formatter.format(result.result)
        return data.get("text/plain", "").strip('"').strip("'")


def snippets_of(line):
    parts = [s.strip() for s in line[line.find(DELIMITER) + len(DELIMITER):].strip(";").split(";")]
    if "" in parts:
        parts.remove("")
    return parts


def expand_snippet(shell, section, snippet, salt, where):
    """The assertion lines for SNIPPET."""
    kind = shell.run(render(section["dispatch"], snippet=snippet), where)
    tests = section["templates"].get(kind, section["templates"]["default"])
    lines = []
    for test in tests:
        message = render(test["fail"], snippet=snippet).replace('"', '\\"')
        normalized = render(section["normalize"], snippet=test["test"])
        if salt is not None:
            normalized = render(section["hash"], snippet=normalized, salt=salt)
        code = render(normalized, snippet=snippet)
        value = shell.run(code, where)
        lines.append(render(section["check"], snippet=code, value=value, message=message))
    return lines


def is_grade(cell):
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def expand_cell(shell, section, cell, where):
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    if cell.get("cell_type") != "code" or not source:
        return
    lines, pending, new, setup_done = source.split("\n"), [], [], False
    for line in lines:
        if DELIMITER not in line or not line.strip().startswith("#"):
            new.append(line)
            pending.append(line)
            continue
        shell.run("\n".join(pending), where)
        pending = []
        if not is_grade(cell):
            raise Problem("%s has an AUTOTEST line but is not an autograder test cell (nbgrader "
                          "metadata \"grade\": true)" % where)
        if section.get("setup") is not None and not setup_done:
            new.append(section["setup"])
            setup_done = True
            shell.run(section["setup"], where)
        hashed = HASHED in line[:line.find(DELIMITER)]
        for snippet in snippets_of(line):
            new += expand_snippet(shell, section, snippet,
                                  secrets.token_hex(8) if hashed else None, where)
            new.append("")
    if pending:
        shell.run("\n".join(pending), where)
    if is_grade(cell) and DELIMITER in source:
        new.append(section["success"])
    cell["source"] = "\n".join(new)
    cell.pop("execution", None)


def main(source_path, templates_path):
    with open(source_path, encoding="utf-8") as f:
        nb = json.load(f)
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
    if kernel not in KERNELS:
        raise Problem("the notebook's kernel is \"%s\"; AUTOTEST lines are expanded for Python "
                      "notebooks only" % kernel)
    section = load_templates(templates_path, kernel)
    os.chdir(os.path.dirname(os.path.abspath(source_path)))
    sys.path.insert(0, os.getcwd())
    shell = Shell()
    for i, cell in enumerate(nb.get("cells", [])):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        expand_cell(shell, section, cell, "cell %d%s" % (i + 1, " (%s)" % gid if gid else ""))
    json.dump(nb, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write("usage: autotest_expand.py SOURCE.ipynb AUTOTESTS.yml\n")
        sys.exit(2)
    try:
        main(sys.argv[1], sys.argv[2])
    except Problem as exc:
        sys.stderr.write("autotests: %s\n" % exc)
        sys.exit(2)
