"""Schemathesis against the running service's OpenAPI: generated requests on every operation, as an
admin (who may reach every route), find no 5xx. The service is `fleet serve`, users are made with
`fleet create-user`, devices registered with `fleet import-devices`."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet_server import FleetServer

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

CSV = """serial,model,device_type,merchant,ownership,invoice_number,invoice_date,rental_start,rental_end
TKM-S001,TKM-58,mpos,Toko Satu,purchased,INV-1,2026-01-05,,
TKM-S002,TKM-80,printer,Toko Dua,rented,,,2026-06-01,2027-05-31
"""


def test_generated_requests_find_no_server_error(database_url, tmp_path):
    """#22: as an admin (every route) and as a merchant's user (the scoped and refused paths), no 5xx."""
    with FleetServer(tmp_path, database_url) as fleet:
        (tmp_path / "devices.csv").write_text(CSV)
        imported = fleet.cli("import-devices", "devices.csv")
        assert imported.returncode == 0 and "registered 2" in imported.stdout, imported.stdout + imported.stderr
        users = (("root", "admin", ()), ("owner", "merchant", ("--merchant", "Toko Satu")))
        for username, role, extra in users:
            made = fleet.cli("create-user", username, "--role", role, *extra, FLEET_NEW_USER_PASSWORD="schemathesis-pw")
            assert made.returncode == 0, made.stderr
        for username, _role, _extra in users:
            token = fleet.token(username, "schemathesis-pw")
            run = subprocess.run(
                [
                    str(Path(sys.executable).parent / "schemathesis"),
                    "run",
                    f"{fleet.base}/openapi.json",
                    "--checks",
                    "not_a_server_error",
                    "--header",
                    f"Authorization: Bearer {token}",
                    "--max-examples",
                    "25",
                    "--seed",
                    "1",
                    "--generation-allow-x00",  # NUL characters: PostgreSQL refuses them in text
                    "true",
                    "--generation-database",
                    "none",
                    "--workers",  # one: its hypothesis threads trip over each other on Python 3.11
                    "1",
                    # not POST /auth/logout nor /auth/password: they end the very session being tested
                    "--exclude-path-regex",
                    "^/auth/(logout|password)$",
                ],
                capture_output=True,
                text=True,
                timeout=400,
                cwd=tmp_path,
            )
            assert run.returncode == 0, username + "\n" + run.stdout[-4000:] + run.stderr[-2000:]
            assert "No issues found" in run.stdout or "passed" in run.stdout, run.stdout[-2000:]
