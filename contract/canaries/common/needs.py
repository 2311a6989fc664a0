"""needs.py MODULE:PACKAGE... - imports each Python module a test kind
needs (as deep as its runner imports it) and prints one "missing: ..."
line for each top-level module that cannot be imported, naming the Debian
package that provides it.  Run by needs.sh inside the sandbox, so it sees
what the runs see.  A bare directory of the module's name (a namespace
package, no code in it) counts as missing."""
import importlib
import sys


def top(name):
    return name.split(".")[0]


wanted = [arg.partition(":")[::2] for arg in sys.argv[1:]]
package_of = {top(module): package for module, package in wanted}
missing = {}   # top-level module -> its line, each said once

for module, package in wanted:
    try:
        importlib.import_module(module)
        if getattr(sys.modules[top(module)], "__file__", None) is None:
            raise ModuleNotFoundError(f"no code in {top(module)}", name=top(module))
    except ModuleNotFoundError as exc:
        name = top(exc.name or module)
        if name in package_of:
            line = f"missing: Python module {name} (Debian package {package_of[name]})"
        else:
            line = (f"missing: Python module {name}, which {top(module)} imports "
                    f"(reinstall the Debian package {package})")
        missing.setdefault(name, line)
    except Exception as exc:  # a broken installation: name it too
        missing.setdefault(top(module), f"missing: a working Python module {top(module)} "
                           f"(Debian package {package}); importing it fails with "
                           f"{type(exc).__name__}: {exc}")
for line in missing.values():
    print(line)
sys.exit(1 if missing else 0)
