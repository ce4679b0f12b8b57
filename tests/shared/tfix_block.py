"""A module a test loads in a transient block (test_transient.py): it imports two at its top, one lazily."""

import tfix_dep
import tfix_kept

VALUE = tfix_dep.VALUE + tfix_kept.VALUE


def lazy():
    import tfix_lazy

    return tfix_lazy.VALUE
