"""What the in-process amqtt broker needs so that a restarted ingest worker loses nothing (imported when that
broker starts; amqtt loads the plugin by name).

1. Authentication. amqtt keeps no queued QoS 1 messages for a session it authenticated as anonymous, so an ingest worker
restarted (SIGKILL, crash) came back to nothing and every sale sent meanwhile was lost. Here the fleet's
own connections log in as the fleet user with a password made for the run, and every session (a
terminal's too) is a real one whose queue survives its client's restart. Terminals on a laptop still need
no password, but a client id starting "fleet-" is the fleet's alone, and a client that names a user must
use it as its client id (a terminal's id is its serial).

2. Redelivery. amqtt 0.12 forgets a QoS 1 message it sent when the connection ends before its PUBACK (the
flow's clean-up discards it whatever happened), so the messages in flight to a worker killed mid-batch
were lost even on a persistent session: 5 of 1,000 in a test. `keep_unacknowledged` puts such a message
back among the session's in-flight ones, which amqtt sends again (DUP) when the session reconnects; the
ingest drops the duplicate by its idempotency key.
"""

import hmac
from dataclasses import dataclass
from typing import Any

from amqtt.mqtt.constants import QOS_1  # type: ignore[import-untyped]
from amqtt.mqtt.protocol.handler import ProtocolHandler  # type: ignore[import-untyped]
from amqtt.plugins.base import BaseAuthPlugin  # type: ignore[import-untyped]
from amqtt.session import OUTGOING  # type: ignore[import-untyped]

FLEET_PREFIX = "fleet-"


class FleetAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]
    @dataclass
    class Config:
        fleet_username: str = ""
        fleet_password: str = ""

    async def authenticate(self, *, session: Any) -> bool:
        username = session.username or ""
        client_id = session.client_id or ""
        if username == self.config.fleet_username:
            given = session.password or ""
            given = given.decode(errors="replace") if isinstance(given, bytes) else str(given)
            return hmac.compare_digest(given.encode(), self.config.fleet_password.encode())
        if client_id.startswith(FLEET_PREFIX):
            return False
        return not username or client_id == username


def keep_unacknowledged() -> None:
    """Make amqtt keep an outgoing QoS 1 message that got no PUBACK for redelivery (see 2. above). Once."""
    flow = ProtocolHandler._handle_qos1_message_flow
    if getattr(flow, "keeps_unacknowledged", False):
        return

    async def flow_keeping_unacknowledged(self: Any, app_message: Any) -> None:
        try:
            await flow(self, app_message)
        finally:
            unacknowledged = app_message.direction == OUTGOING and app_message.puback_packet is None
            if unacknowledged and app_message.qos == QOS_1 and self.session is not None:
                self.session.inflight_out.setdefault(app_message.packet_id, app_message)

    flow_keeping_unacknowledged.keeps_unacknowledged = True  # type: ignore[attr-defined]
    ProtocolHandler._handle_qos1_message_flow = flow_keeping_unacknowledged
