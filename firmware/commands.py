"""Commands from the fleet, loaded for the moment one arrives (see transient.py) and dropped after.

Validated by the protocol; a duplicate (same id) is answered again without running twice; every command
is acked with its id, an unknown or malformed one with an error. Nothing a broker sends can crash it.
"""

import asyncio
import json

import config
from micropython import const
from transient import Transient

from protocol import codec, command, topics
from protocol.errors import ProtocolError

_ANSWERED_KEEP = const(16)


def handle(link, topic, payload):
    """Decode, deduplicate and run one message from the terminal's cmd topic."""
    try:
        serial, kind = topics.parse(topic)
    except ProtocolError:
        link.malformed += 1
        return
    if serial != link.serial or kind != topics.CMD:  # not this terminal's command (retained, misrouted)
        link.foreign += 1  # never run, never answered: its id is another terminal's
        return
    try:
        msg = codec.decode(topic, payload)[2]
    except ProtocolError as e:
        link.malformed += 1
        cmd_id = _command_id(payload)
        if cmd_id is not None:
            answer(link, cmd_id, False, "unknown_command" if e.field == "cmd" else "malformed", str(e))
        return
    cmd_id = msg["id"]
    for answered in _load_answered(link.board.flash_root):
        if answered[0] == cmd_id:  # a duplicate: answer again, do not run it twice
            asyncio.create_task(send_ack(link, *answered))
            return
    expires = msg.get("expires")
    if expires is not None and expires < link.board.now():
        answer(link, cmd_id, False, "expired", "expired before it arrived")
        return
    try:
        _run(link, cmd_id, msg["cmd"], msg.get("args") or {})
    except Exception as e:
        answer(link, cmd_id, False, "failed", str(e))


def _run(link, cmd_id, name, args):
    till = link.till

    def reply(ok, error=None, detail=None):
        answer(link, cmd_id, ok, error, detail)

    if name == command.PING:
        reply(True)
    elif name == command.SET_CLOCK:
        link.board.set_clock(args["time"])
        reply(True)
    elif name == command.LOCK or name == command.UNLOCK:
        till.set_locked(name == command.LOCK, args.get("reason"))
        reply(True)
    elif name == command.CONFIG:
        _configure(link, args["config"], reply)
    elif name == command.REPRINT:

        async def reprint():
            with Transient("aftersale") as aftersale:
                ok, detail = await aftersale.reprint(till, args["receipt"])
            reply(ok, None if ok else "rejected", detail)

        till.inbox.put(("call", reprint))
    elif name == command.REPLACEMENT:

        async def replace():
            with Transient("aftersale") as aftersale:
                ok, detail = await aftersale.replacement(till, args.get("original"), args["amount"], args["ref"])
            reply(ok, None if ok else "rejected", detail)

        till.inbox.put(("call", replace))
    elif name == command.PAY_CONFIRM and args["method"] == "paylink":
        # P3: the customer paid the rest of a closed sale through its pay link: a final receipt.
        async def settle():
            with Transient("aftersale") as aftersale:
                ok, detail = await aftersale.settle(till, args["receipt"], args["amount"], args["ref"])
            reply(ok, None if ok else "rejected", detail)

        till.inbox.put(("call", settle))
    elif name == command.PAY_CONFIRM:
        confirmation = {"receipt": args["receipt"], "amount": args["amount"], "ref": args["ref"]}
        confirmation["method"] = args["method"]
        till.inbox.put(("confirm", confirmation, reply))
    elif name == command.PAYLATER:
        till.inbox.put(("paylater", args, reply))
    elif name == command.REFUND_ANSWER:
        # The till's task is waiting for it inside the refund (aftersale.py): handed over directly.
        waiting = till.pending
        if waiting is None or waiting.get("method") != "refund" or waiting["ref"] != args["ref"]:
            return reply(False, "rejected", "no refund waiting for this ref")
        waiting["answer"] = args
        reply(True)


def _configure(link, changes, reply):
    cfg = dict(link.cfg)
    for key in changes:
        if key not in config.DEFAULTS:
            return reply(False, "rejected", "unknown setting " + key)
        if type(changes[key]) is not type(config.DEFAULTS[key]):
            return reply(False, "rejected", "wrong type for " + key)
        cfg[key] = changes[key]
    config.save(link.board.flash_root, cfg)  # atomically: the old file or the new one, never half
    link.cfg.update(cfg)  # the one settings dict the till and the link share
    return reply(True)


def answer(link, cmd_id, ok, error=None, detail=None):
    """Remember the answer on flash (a duplicate after a reboot gets the same one) and send it."""
    answered = _load_answered(link.board.flash_root)
    answered.append((cmd_id, ok, error, detail))
    del answered[:-_ANSWERED_KEEP]
    config.write_json(link.board.flash_root + "/answered.json", answered)
    asyncio.create_task(send_ack(link, cmd_id, ok, error, detail))


async def send_ack(link, cmd_id, ok, error, detail):
    with Transient("protocol.ack") as ack:
        payload = codec.encode(ack.build(link.serial, link.board.now(), cmd_id, ok, error, detail))
    try:
        await link.client.publish(topics.topic(link.serial, topics.ACK), payload, 1)
    except Exception:
        pass  # not connected: the fleet sends the command again, and this answer is kept for it


def _command_id(payload):
    try:
        cmd_id = json.loads(payload).get("id")
    except Exception:
        return None
    if isinstance(cmd_id, str) and 0 < len(cmd_id) <= 40:
        return cmd_id
    return None


def _load_answered(root):
    """The last answered commands, [(id, ok, error, detail)], oldest first: they survive a reboot."""
    stored = config.read_json(root + "/answered.json", [])
    return [tuple(item) for item in stored if isinstance(item, list) and len(item) == 4]
