"""needs.py MODULE:PACKAGE... - imports each Python module a test kind
needs and prints one "missing: ..." line for each that cannot be
imported, naming the Debian package that provides it.  Run by needs.sh
inside the sandbox, so it sees what the runs see."""
import importlib
import sys

failed = 0
for arg in sys.argv[1:]:
    module, _, package = arg.partition(":")
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        failed += 1
        if exc.name and exc.name.split(".")[0] != module.split(".")[0]:
            print(f"missing: Python module {exc.name}, which {module} imports "
                  f"(reinstall the Debian package {package})")
        else:
            print(f"missing: Python module {module} (Debian package {package})")
    except Exception as exc:  # a broken installation: name it too
        failed += 1
        print(f"missing: a working Python module {module} (Debian package {package}); "
              f"importing it fails with {type(exc).__name__}: {exc}")
sys.exit(1 if failed else 0)
