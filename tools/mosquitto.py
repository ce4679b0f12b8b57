"""A Mosquitto broker of our own on a free port, for tests and benchmarks that need their own config
(passwords, ACLs, persistence) or must stop and restart the broker."""

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

from fleet.broker import QUEUE_SETTINGS, free_port

__all__ = ["Mosquitto", "binary", "free_port"]


def binary() -> str:
    for name in ("mosquitto", "/usr/sbin/mosquitto"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("mosquitto is not installed (Debian package 'mosquitto')")


class Mosquitto:
    """`with Mosquitto(workdir) as broker:` ... broker.port, broker.stop(), broker.start()."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        passwords: dict[str, str] | None = None,
        acl: str | None = None,
        persistence: bool = False,
        tls: tuple[Path, Path, Path] | None = None,
        config: Path | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        """A broker of our own; `config`: run with that file as it is (its listener must be on `port`)."""
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        if config is not None:
            self.config = config
            return
        # Started as root, mosquitto would switch to the 'mosquitto' user and could not write its database or
        # read our files: it stays who we are.
        lines = [f"listener {self.port} 127.0.0.1", "log_dest stderr", "log_type error", f"user {getpass.getuser()}"]
        lines += QUEUE_SETTINGS  # as the fleet's own broker has them
        if passwords is None:
            lines.append("allow_anonymous true")
        else:
            lines += ["allow_anonymous false", f"password_file {workdir / 'passwd'}"]
            (workdir / "passwd").write_text("")
            for user, password in passwords.items():
                subprocess.run(
                    [
                        shutil.which("mosquitto_passwd") or "mosquitto_passwd",
                        "-b",
                        str(workdir / "passwd"),
                        user,
                        password,
                    ],
                    check=True,
                )
        if acl is not None:
            (workdir / "acl").write_text(acl)
            lines.append(f"acl_file {workdir / 'acl'}")
        if tls is not None:  # (CA certificate, server certificate, server key), PEM
            lines += [f"cafile {tls[0]}", f"certfile {tls[1]}", f"keyfile {tls[2]}"]
        if persistence:
            lines += ["persistence true", f"persistence_location {workdir}/", "autosave_interval 1"]
        lines += extra
        self.config = workdir / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> "Mosquitto":
        self.proc = subprocess.Popen(
            [binary(), "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("mosquitto exited: " + self.proc.stderr.read().decode()) from None
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: with persistence, the broker saves its sessions first
            self.proc.wait(timeout=10)
        self.proc = None

    @property
    def url(self) -> str:
        scheme = "mqtts" if "certfile" in self.config.read_text() else "mqtt"
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> "Mosquitto":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
