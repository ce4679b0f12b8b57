"""Run the shared test files on the interpreter that runs this script (made for MicroPython).

    micropython tests/shared/run.py ROOT [test_module ...]

Imports every tests/shared/test_*.py (or the named ones), calls each test_* function, prints failures
with their traceback and ends with the line "N passed, N failed". Exit status 1 when anything failed.
"""

import os
import sys


def _print_exception(e):
    try:
        sys.print_exception(e)  # MicroPython
    except AttributeError:
        import traceback

        traceback.print_exception(e)


def main(argv):
    root = argv[1] if len(argv) > 1 else "."
    here = root + "/tests/shared"
    sys.path.insert(0, root)
    sys.path.insert(0, here)
    names = argv[2:] or sorted(n[:-3] for n in os.listdir(here) if n.startswith("test_") and n.endswith(".py"))
    passed = failed = 0
    for name in names:
        module = __import__(name)
        for attr in sorted(dir(module)):
            if not attr.startswith("test_"):
                continue
            try:
                getattr(module, attr)()
                passed += 1
            except Exception as e:
                failed += 1
                print("FAIL %s.%s" % (name, attr))
                _print_exception(e)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main(sys.argv))
