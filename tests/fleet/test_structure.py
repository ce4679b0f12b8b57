"""#17: the shape of the house, checked so that it stays: every feature package has the same files,
services speak in refusals (fleet/errors.py) and never in HTTP, and only the app mounts routers."""

import ast
from pathlib import Path

from fleet.api.problems import STATUS
from fleet.errors import Refusal
from tests.paths import ROOT

FLEET = ROOT / "fleet"
FEATURES = ("alerts", "audit", "auth", "commands", "devices", "ingest", "notifications", "payments", "repairs")
SHAPE = {"models.py", "schemas.py", "service.py", "routes.py"}
# The HTTP side of a feature besides its router: request dependencies, the public checkout page.
HTTP_MODULES = {"routes.py", "deps.py", "checkout.py"}
HTTP_LAYER = {"fleet.api.problems", "fleet.api.params", "fleet.api.guard"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_every_feature_package_has_the_same_files():
    missing = {f: sorted(SHAPE - {p.name for p in (FLEET / f).glob("*.py")}) for f in FEATURES}
    assert {f: m for f, m in missing.items() if m} == {}
    packages = {p.parent.name for p in FLEET.glob("*/routes.py")}
    assert packages == set(FEATURES), "a new feature package belongs in FEATURES (and gets the same files)"


def test_services_raise_refusals_and_never_speak_http():
    speaking = []
    for feature in FEATURES:
        for path in (FLEET / feature).glob("*.py"):
            if path.name in HTTP_MODULES:
                continue
            http = {n for n in _imports(path) if n.split(".")[0] in ("fastapi", "starlette") or n in HTTP_LAYER}
            if http:
                speaking.append(f"{feature}/{path.name}: {sorted(http)}")
    assert speaking == []


def test_only_the_app_mounts_routers():
    borrowing = []
    for path in FLEET.rglob("*.py"):
        for name in _imports(path):
            parts = name.split(".")
            if "routes" in parts and path.parent.name != parts[1] and path.name != "app.py":
                borrowing.append(f"{path.relative_to(FLEET)} imports {name}")
    assert borrowing == []


def test_every_kind_of_refusal_has_one_status():
    import fleet.app  # noqa: F401  every feature's exceptions loaded

    kinds, seen = set(), [Refusal]
    while seen:
        cls = seen.pop()
        kinds.add(cls.kind)
        seen.extend(cls.__subclasses__())
    assert kinds <= set(STATUS), kinds - set(STATUS)
