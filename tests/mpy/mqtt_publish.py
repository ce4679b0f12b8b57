"""Publish one message with the firmware's MQTT client, as a given user (for the broker ACL test).

    micropython tests/mpy/mqtt_publish.py ROOT PORT USER PASSWORD TOPIC PAYLOAD
Prints "acked" once the broker acknowledged the QoS 1 publish, or "refused: ..." if it would not connect.
"""

import asyncio
import sys

sys.path.insert(0, sys.argv[1] + "/firmware")
from mqtt import MQTTClient  # noqa: E402


async def main(port, user, password, topic, payload):
    client = MQTTClient(
        asyncio.open_connection,
        "127.0.0.1",
        port,
        user + "-rogue",
        user=user,
        password=password,
        keepalive=10,
        clean=True,
    )
    runner = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(client.connected.wait(), 5)
    except asyncio.TimeoutError:
        print("refused: could not connect (errors=%d)" % client.errors)
        return
    await client.publish(topic, payload.encode(), 1)
    for _ in range(200):
        if client.inflight() == 0:
            print("acked")
            break
        await asyncio.sleep_ms(10)
    await client.disconnect()
    runner.cancel()


asyncio.run(main(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]))
