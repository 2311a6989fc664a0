"""Mutants of a reference solution, for `assay audit`.

Usage:
    python3 -I mutate.py REFERENCE OUT [MAX]

REFERENCE is the instructor's correct submission (a folder, or one .py
file).  For every small change to one of its .py files that a wrong
solution could make, OUT/NNNN/ receives a copy of the submission with
that one change, and OUT/mutants.json lists them: {"id", "dir", "file",
"line", "function", "operator", "description", "diff"}; "functions"
lists each function's file, name and an argument description guessed
from its annotations (for `assay audit --suggest`).  At most MAX mutants
(default 500), taken evenly over the sites.

The operators: arithmetic (+ -, * /, // /, % //), comparisons (< <=,
> >=, == !=, in / not in, is / is not), boolean (and or, not dropped),
constants (integers +1 and -1, True False, a string emptied), a
statement removed (replaced by pass), the first two arguments of a call
swapped, and augmented assignments (+= -=).  Each mutant changes the
text of one expression or statement in place, so its diff is one line
or a few; the code itself is only parsed, never run.
"""
import ast
import difflib
import json
import os
import shutil
import sys

ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
         ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
           ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
           ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
          ast.Mod: "%", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
          ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
          ast.And: "and", ast.Or: "or"}
REMOVABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Break,
             ast.Continue)


def is_docstring(node, parent):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
        isinstance(node.value.value, str) and parent is not None and \
        getattr(parent, "body", [None])[0] is node


def variants(node, parent):
    """(operator, description, replacement text) for each mutant of NODE."""
    out = []
    if isinstance(node, ast.BinOp) and type(node.op) in ARITH:
        new = ARITH[type(node.op)]
        out.append(("arithmetic", "%s replaced by %s" % (SYMBOL[type(node.op)], SYMBOL[new]),
                    ast.unparse(ast.BinOp(node.left, new(), node.right))))
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in COMPARE:
                ops = list(node.ops)
                ops[i] = COMPARE[type(op)]()
                kind = "boundary" if type(op) in (ast.Lt, ast.LtE, ast.Gt, ast.GtE) else "comparison"
                out.append((kind, "%s replaced by %s" % (SYMBOL[type(op)], SYMBOL[type(ops[i])]),
                            ast.unparse(ast.Compare(node.left, ops, node.comparators))))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append(("boolean", "%s replaced by %s" % (SYMBOL[type(node.op)], SYMBOL[new]),
                    ast.unparse(ast.BoolOp(new(), node.values))))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        out.append(("boolean" if isinstance(node.op, ast.Not) else "arithmetic",
                    "%s dropped" % ("not" if isinstance(node.op, ast.Not) else "unary -"),
                    "(%s)" % ast.unparse(node.operand)))
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            out.append(("constant", "%r replaced by %r" % (v, not v), repr(not v)))
        elif isinstance(v, int):
            for d in (1, -1):
                out.append(("constant", "%d replaced by %d" % (v, v + d), repr(v + d)))
        elif isinstance(v, str) and v and not isinstance(parent, ast.JoinedStr):
            out.append(("constant", "string %s emptied" % repr(v)[:40], "''"))
    elif isinstance(node, ast.Call) and len(node.args) >= 2 and \
            not any(isinstance(a, ast.Starred) for a in node.args[:2]):
        args = [node.args[1], node.args[0]] + node.args[2:]
        out.append(("arguments", "the first two arguments of %s swapped" %
                    ast.unparse(node.func)[:40], ast.unparse(ast.Call(node.func, args, node.keywords))))
    elif isinstance(node, ast.AugAssign) and type(node.op) in (ast.Add, ast.Sub):
        new = ast.Sub if isinstance(node.op, ast.Add) else ast.Add
        out.append(("arithmetic", "%s= replaced by %s=" % (SYMBOL[type(node.op)], SYMBOL[new]),
                    ast.unparse(ast.AugAssign(node.target, new(), node.value))))
    if isinstance(node, REMOVABLE) and not is_docstring(node, parent) and \
            isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.While,
                                ast.If, ast.With, ast.Try)):
        out.append(("statement", "statement removed", "pass"))
    return out


def sites(tree):
    """(node, parent, enclosing function name) for every node, in order."""
    found = []

    def walk(node, parent, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        found.append((node, parent, function))
        for child in ast.iter_child_nodes(node):
            walk(child, node, function)

    walk(tree, None, None)
    return found


def offsets(source):
    """Where each line starts in SOURCE (AST columns are UTF-8 bytes)."""
    starts, pos = [0], 0
    for line in source.encode("utf-8").splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def replace(source, node, text):
    data, starts = source.encode("utf-8"), offsets(source)
    a = starts[node.lineno - 1] + node.col_offset
    b = starts[node.end_lineno - 1] + node.end_col_offset
    return (data[:a] + text.encode("utf-8") + data[b:]).decode("utf-8")


def mutants_of(rel, source):
    tree = ast.parse(source)
    made, seen = [], {source}
    for node, parent, function in sites(tree):
        if getattr(node, "end_col_offset", None) is None:
            continue
        if isinstance(parent, ast.Expr) and is_docstring_expr(parent):
            continue
        for operator, description, text in variants(node, parent):
            new = replace(source, node, text)
            if new in seen:
                continue
            try:
                ast.parse(new)
            except SyntaxError:
                continue
            seen.add(new)
            made.append({"file": rel, "line": node.lineno, "function": function,
                         "operator": operator, "description": description, "source": new})
    return made


def is_docstring_expr(expr):
    return isinstance(expr.value, ast.Constant) and isinstance(expr.value.value, str)


def describe_annotation(a):
    """Assay's argument description for an annotation, or None."""
    if a is None:
        return None
    name = ast.unparse(a)
    simple = {"int": {"type": "int", "min": -100, "max": 100}, "float": {"type": "float",
              "min": -1000, "max": 1000}, "bool": {"type": "bool"}, "str": {"type": "str"}}
    if name in simple:
        return simple[name]
    if isinstance(a, ast.Subscript) and ast.unparse(a.value) in ("list", "List", "tuple",
                                                                  "set", "Sequence"):
        inner = describe_annotation(a.slice if not isinstance(a.slice, ast.Tuple)
                                    else a.slice.elts[0])
        if inner:
            return {"type": "list", "of": inner, "max_size": 10}
    return None


def functions_of(rel, source):
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            args = [describe_annotation(x.annotation) for x in node.args.args]
            out.append({"file": rel, "name": node.name, "arguments": args,
                        "guessed": all(x is not None for x in args)})
    return out


def python_files(reference):
    if os.path.isfile(reference):
        return os.path.dirname(os.path.abspath(reference)), [os.path.basename(reference)]
    found = []
    for d, dirs, files in os.walk(reference):
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                found.append(os.path.relpath(os.path.join(d, name), reference))
    return reference, found


def spread(items, limit):
    """At most LIMIT of ITEMS, taken evenly."""
    if len(items) <= limit:
        return items
    return [items[i * len(items) // limit] for i in range(limit)]


def main():
    reference, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    top, files = python_files(reference)
    single = os.path.isfile(reference)
    made, functions = [], []
    for rel in files:
        with open(os.path.join(top, rel), encoding="utf-8") as f:
            source = f.read()
        try:
            made += [dict(m, original=source) for m in mutants_of(rel, source)]
            functions += functions_of(rel, source)
        except SyntaxError as e:
            sys.exit("%s: line %s: %s (the reference must be valid Python)" % (rel, e.lineno, e.msg))
    listed = []
    for n, m in enumerate(spread(made, limit), 1):
        d = os.path.join(out, "%04d" % n)
        if single:
            os.makedirs(d)
        else:
            shutil.copytree(top, d, ignore=shutil.ignore_patterns("__pycache__"))
        with open(os.path.join(d, m["file"]), "w", encoding="utf-8") as f:
            f.write(m["source"])
        diff = "".join(difflib.unified_diff(
            m["original"].splitlines(True), m["source"].splitlines(True),
            "a/" + m["file"], "b/" + m["file"], n=1))
        listed.append({"id": n, "dir": d, "file": m["file"], "line": m["line"],
                       "function": m["function"], "operator": m["operator"],
                       "description": m["description"], "diff": diff})
    with open(os.path.join(out, "mutants.json"), "w", encoding="utf-8") as f:
        json.dump({"mutants": listed, "functions": functions, "sites": len(made)}, f)


if __name__ == "__main__":
    main()
