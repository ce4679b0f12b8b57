"""mqtts: the terminal verifies the broker's certificate against the CA on its flash (real TLS, real Mosquitto)."""

import subprocess
from pathlib import Path

import pytest

from tools import mosquitto, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True)
    key, cert = folder / "ca.key", folder / "ca.pem"
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
    )
    openssl("x509", "-in", str(cert), "-outform", "der", "-out", str(folder / "ca.der"))
    return folder


def make_server_cert(ca: Path, folder: Path) -> tuple[Path, Path]:
    key, csr, cert, ext = folder / "server.key", folder / "server.csr", folder / "server.pem", folder / "ext.cnf"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca / "ca.pem"),
        "-CAkey",
        str(ca / "ca.key"),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return cert, key


def test_terminal_talks_tls_to_a_broker_its_ca_signed_and_refuses_another(tmp_path):
    ca = make_ca(tmp_path / "ca", "pos-fleet-test-ca")
    stranger = make_ca(tmp_path / "stranger", "someone-else")
    cert, key = make_server_cert(ca, ca)
    with mosquitto.Mosquitto(tmp_path / "broker", tls=(ca / "ca.pem", cert, key)) as broker:
        assert broker.url.startswith("mqtts://")
        dev = vterm.provision(tmp_path / "t", broker.url, 12, 0, {"reconnect_max_s": 1})
        (dev / "flash" / "ca.der").write_bytes((ca / "ca.der").read_bytes())
        proc = vterm.start(dev, "1A B 1#", drain_timeout=20)
        out, _ = proc.communicate(timeout=60)
        # Drained: the broker acknowledged every journal record over the verified TLS connection.
        assert proc.returncode == 0, out.decode()[-2000:]

        impostor = vterm.provision(tmp_path / "t", broker.url, 12, 1, {"reconnect_max_s": 1})
        (impostor / "flash" / "ca.der").write_bytes((stranger / "ca.der").read_bytes())
        proc = vterm.start(impostor, "1A B 1#", drain_timeout=4)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 3, "a broker whose certificate the terminal's CA did not sign is not trusted"
