"""`fleet mosquitto-config`: a Mosquitto password file, ACL file and config for the registered fleet.

Each terminal logs in as its serial with the password issued for it (only its hash is stored, already in
Mosquitto's PBKDF2 format) and may publish only its own hello/state/telemetry/event/ack topics and read
only its own cmd topic. The fleet's own user reads every terminal's topics and writes commands.
"""

from dataclasses import dataclass
from pathlib import Path

from fleet.auth import passwords
from fleet.devices.models import Device
from protocol import topics

TERMINAL_PUBLISHES = (topics.HELLO, topics.STATE, topics.TELEMETRY, topics.EVENT, topics.ACK, topics.REQ)


async def issue_credentials(device: Device) -> str:
    """A new broker password for `device` (username = its serial): returned once, for provisioning into
    the terminal; only its hash is kept. The old one stops working at the next `mosquitto-config`."""
    password = passwords.new_device_password()
    device.mqtt_password_hash = passwords.hash_password(password, passwords.DEVICE_ITERATIONS)
    await device.save(update_fields=["mqtt_password_hash"])
    return password


@dataclass
class Written:
    devices: int
    without_credentials: int
    files: list[Path]


def acl_text(fleet_user: str) -> str:
    lines = [
        "# Written by `fleet mosquitto-config`; regenerate rather than edit.",
        "# The fleet service: reads what every terminal publishes, sends commands.",
        f"user {fleet_user}",
    ]
    lines += [f"topic read {topics.subscription(kind)}" for kind in TERMINAL_PUBLISHES]
    lines += [f"topic write {topics.subscription(topics.CMD)}", ""]
    lines.append("# Every terminal (username = its serial): its own topics only.")
    lines += [f"pattern write {topics.PREFIX}/%u/{kind}" for kind in TERMINAL_PUBLISHES]
    lines.append(f"pattern read {topics.PREFIX}/%u/{topics.CMD}")
    return "\n".join(lines) + "\n"


def config_text(out: Path, port: int, bind: str, run_as: str | None) -> str:
    lines = [
        "# Written by `fleet mosquitto-config`. Start with: mosquitto -c " + str(out / "mosquitto.conf"),
        f"listener {port} {bind}",
        "allow_anonymous false",
        f"password_file {out / 'passwd'}",
        f"acl_file {out / 'acl'}",
        # Mosquitto drops QoS 1 messages beyond 1000 queued per session by default: a burst of sales ahead
        # of a restarting ingest worker would be lost.
        "max_queued_messages 1000000",
        "max_inflight_messages 100",
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
    entries = [f"{fleet_user}:{passwords.hash_password(fleet_password, passwords.DEVICE_ITERATIONS)}"]
    missing = 0
    for serial, hashed in rows:
        if hashed:
            entries.append(f"{serial}:{hashed}")
        else:
            missing += 1
    passwd = out / "passwd"
    tmp = passwd.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)
    tmp.write_text("\n".join(entries) + "\n")
    tmp.replace(passwd)  # atomic: a broker reloading never reads half a file
    (out / "acl").write_text(acl_text(fleet_user))
    (out / "mosquitto.conf").write_text(config_text(out, port, bind, run_as))
    return Written(len(rows) - missing, missing, [passwd, out / "acl", out / "mosquitto.conf"])
