"""`fleet mosquitto-config`: a Mosquitto configuration for the registered fleet that holds against a
terminal's own credentials (a password can be read off a stolen board).

Access is Mosquitto's dynamic-security plugin, not a plain `acl_file`: the plugin checks a subscription
when it is made and refuses it at SUBACK, where an `acl_file` grants any subscription and filters only at
delivery (a terminal subscribed to the fleet's shared group `$share/fleet/...` was handed other terminals'
sales, denied them and dropped them after their PUBACK: lost). In `dynamic-security.json`:

- each terminal is a client whose username is its serial, with the password issued for it (only its hash
  is stored, PBKDF2-SHA512), bound to the client id equal to its serial: it cannot connect under another
  terminal's id (knocking it offline) nor under one of the fleet's;
- each terminal's role publishes only to its own hello/state/telemetry/event/ack/req topics and
  subscribes only to its own cmd topic; everything else is denied by default;
- the fleet's user (role `fleet`) reads every terminal's topics, through shared subscriptions too, and
  writes commands. Its client ids are derived from its secret password (`broker.fleet_client_id`):
  unguessable, and no terminal may use any id but its serial anyway.
"""

import glob
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from fleet.audit import service as audit
from fleet.auth import passwords
from fleet.broker import QUEUE_SETTINGS
from fleet.devices.models import Device
from protocol import topics

DYNSEC_FILE = "dynamic-security.json"
MAX_PACKET = 32768
TERMINAL_PUBLISHES = (topics.HELLO, topics.STATE, topics.TELEMETRY, topics.EVENT, topics.ACK, topics.REQ)


async def issue_credentials(device: Device, *, by: str, now: datetime) -> str:
    """A new broker password for `device` (username = its serial): returned once, for provisioning into
    the terminal; only its hash is kept. The old one stops working at the next `mosquitto-config`."""
    password = passwords.new_device_password()
    had = device.mqtt_password_hash is not None
    device.mqtt_password_hash = passwords.hash_password(password, passwords.DEVICE_ITERATIONS)
    async with in_transaction():
        await device.save(update_fields=["mqtt_password_hash"])
        await audit.record(  # that it changed, never the password or its hash
            actor=by, action="device.credentials", target=f"device:{device.serial}", at=now,
            merchant_id=device.merchant_id,  # type: ignore[attr-defined]
            before={"credentials": had}, after={"credentials": True},
        )  # fmt: skip
    return password


@dataclass
class Written:
    devices: int
    without_credentials: int
    files: list[Path]


def dynsec_plugin() -> str:
    """Where the installed Mosquitto keeps its dynamic-security plugin (Debian: /usr/lib/<arch>/)."""
    for pattern in (
        "/usr/lib/*/mosquitto_dynamic_security.so",
        "/usr/lib/mosquitto_dynamic_security.so",
        "/usr/local/lib/mosquitto_dynamic_security.so",
        "/usr/local/lib/*/mosquitto_dynamic_security.so",
    ):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise RuntimeError("Mosquitto's dynamic-security plugin is not installed (Debian package 'mosquitto')")


def _dynsec_client(username: str, encoded: str, role: str, clientid: str | None) -> dict[str, Any]:
    """A dynsec client from a `$7$iterations$salt$hash` hash (the same PBKDF2-SHA512, fields apart)."""
    _, seven, iterations, salt, digest = encoded.split("$")
    if seven != "7":
        raise ValueError(f"{username}: not a PBKDF2-SHA512 ($7$) hash")
    client: dict[str, Any] = {
        "username": username,
        "password": digest,
        "salt": salt,
        "iterations": int(iterations),
        "roles": [{"rolename": role}],
    }
    if clientid is not None:
        client["clientid"] = clientid
    return client


def _acl(kind: str, topic: str) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic, "allow": True}


def _terminal_role(serial: str) -> dict[str, Any]:
    """A role for one terminal: Mosquitto 2.0's dynamic-security plugin substitutes no `%u` in its ACLs,
    so each terminal's own topics are spelled out."""
    own = f"{topics.PREFIX}/{serial}/"
    acls = [_acl("publishClientSend", own + kind) for kind in TERMINAL_PUBLISHES]
    acls += [
        _acl(kind, own + topics.CMD) for kind in ("subscribeLiteral", "publishClientReceive", "unsubscribeLiteral")
    ]
    return {"rolename": "terminal-" + serial, "acls": acls}


def dynsec_document(fleet_user: str, fleet_hash: str, terminals: list[tuple[str, str]]) -> dict[str, Any]:
    """The dynamic-security plugin's whole state: the fleet's user, each terminal bound to its serial."""
    fleet_acls = []
    for kind in TERMINAL_PUBLISHES:
        fleet_acls += [
            _acl("subscribePattern", topics.subscription(kind)),
            # Mosquitto 2.0 checks a shared subscription with its $share/<group>/ prefix
            _acl("subscribePattern", "$share/+/" + topics.subscription(kind)),
            _acl("publishClientReceive", topics.subscription(kind)),
        ]
    fleet_acls += [_acl("publishClientSend", topics.subscription(topics.CMD)), _acl("unsubscribePattern", "#")]
    clients = [_dynsec_client(fleet_user, fleet_hash, "fleet", None)]
    clients += [_dynsec_client(serial, hashed, "terminal-" + serial, serial) for serial, hashed in terminals]
    roles = [{"rolename": "fleet", "acls": fleet_acls}] + [_terminal_role(serial) for serial, _ in terminals]
    return {
        "clients": clients,
        "roles": roles,
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": False,
        },
    }


def config_text(out: Path, port: int, bind: str, run_as: str | None) -> str:
    lines = [
        "# Written by `fleet mosquitto-config`. Start with: mosquitto -c " + str(out / "mosquitto.conf"),
        f"listener {port} {bind}",
        "allow_anonymous false",
        f"plugin {dynsec_plugin()}",
        f"plugin_opt_config_file {out / DYNSEC_FILE}",
        # Every message the contract allows fits (an event is at most 16 KiB); anything larger is refused
        # at the door instead of reaching the fleet.
        f"max_packet_size {MAX_PACKET}",
        *QUEUE_SETTINGS,  # a deep queue per session, and the ingest workers' in-flight window
        "persistence true",
        f"persistence_location {out}/",
    ]
    if run_as:
        lines.append(f"user {run_as}")
    return "\n".join(lines) + "\n"


async def write(
    out: Path,
    fleet_user: str,
    fleet_password: str,
    *,
    port: int = 1883,
    bind: str = "127.0.0.1",
    run_as: str | None = None,
) -> Written:
    """Write passwd, acl and mosquitto.conf into `out` (the passwd file readable by its owner only)."""
    if not fleet_user or ":" in fleet_user:
        raise ValueError("the fleet user name may not contain ':'")
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = await Device.all().order_by("serial").values_list("serial", "mqtt_password_hash")
    terminals = [(str(serial), str(hashed)) for serial, hashed in rows if hashed]
    fleet_hash = passwords.hash_password(fleet_password, passwords.DEVICE_ITERATIONS)
    document = dynsec_document(fleet_user, fleet_hash, terminals)
    target = out / DYNSEC_FILE
    tmp = target.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)
    tmp.write_text(json.dumps(document, indent=1) + "\n")
    tmp.replace(target)  # atomic: a broker starting never reads half a file
    (out / "mosquitto.conf").write_text(config_text(out, port, bind, run_as))
    return Written(len(terminals), len(rows) - len(terminals), [target, out / "mosquitto.conf"])
