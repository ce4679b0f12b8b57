"""The wire contract between POS terminals and the fleet service.

Imported unchanged by CPython (fleet, tools, tests) and by MicroPython (firmware), so it keeps to the
subset both share: no dataclasses, enum, typing at run time or pydantic; plain dicts on the wire.
Importing the package does no work; import the submodule you need.
"""

VERSION = 1
