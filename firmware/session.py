"""What a terminal says on every connect: hello, retained state online, and its command subscription.

Loaded for the moment of a connect and dropped after (see transient.py).
"""

from link import FIRMWARE
from transient import Transient

from protocol import codec, state, topics


async def announce(link):
    cfg = link.cfg
    board = link.board
    caps = ["keypad", "display", "qris", "cash_drawer"]
    caps.append("qr_native" if cfg["qr_mode"] == "native" else "qr_raster")
    caps.append("printer58" if cfg["cols"] == 32 else "printer80")
    if board.card_reader is not None:
        caps.append("card_reader")
    if board.battery()[0] is not None:
        caps.append("battery")
    ident = link.ident
    with Transient("protocol.hello") as hello:
        msg = hello.build(
            link.serial,
            board.now(),
            ident["model"],
            ident["hw_rev"],
            board.hw_id(),
            FIRMWARE,
            board.boot_reason,
            caps,
        )
    client = link.client
    await client.publish(topics.topic(link.serial, topics.HELLO), codec.encode(msg), 1)
    online = state.build(link.serial, state.ONLINE, link.connected_at)  # the will's time (Link._will)
    await client.publish(topics.topic(link.serial, topics.STATE), codec.encode(online), 1, retain=True)
    await client.subscribe(topics.topic(link.serial, topics.CMD), 1)
