"""`fleet serve` as a real process (uvicorn, ingest worker processes, dispatcher), and the `fleet` CLI
run with the same environment."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tools.mosquitto import free_port

FLEET = str(Path(sys.executable).parent / "fleet")


class FleetServer:
    def __init__(self, workdir: Path, database_url: str, broker_url: str = "", workers: int = 1) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            FLEET_DATABASE_URL=database_url,
            FLEET_BROKER_URL=broker_url,
            FLEET_INGEST_WORKERS=str(workers),
            FLEET_JWT_SECRET=os.urandom(32).hex(),  # 256 random bits: the randomness check wants 128 at least
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "fleet-serve.log"

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FLEET, *args], env=dict(self.env, **env), cwd=self.workdir, capture_output=True, text=True, timeout=120
        )

    def start(self) -> "FleetServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [FLEET, "serve", "--port", str(self.port)], env=self.env, cwd=self.workdir, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("fleet serve exited: " + self.log.read_text())
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("fleet serve did not answer: " + self.log.read_text())

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        data = None
        headers = {}
        if isinstance(body, dict):
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif isinstance(body, str):
            data, headers["Content-Type"] = body.encode(), "text/csv"
        if token:
            headers["Authorization"] = "Bearer " + token
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def token(self, username: str, password: str) -> str:
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        request = urllib.request.Request(self.base + "/auth/token", data=form, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            token: str = json.loads(response.read())["access_token"]
            return token

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def __enter__(self) -> "FleetServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
