"""A real SMTP server for tests (aiosmtpd), collecting what the fleet sends."""

from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tools.mosquitto import free_port


class Smtp:
    """`Smtp(port)`; `.start()` / `.stop()`; what arrived is in `.inbox` (email.message objects)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox: list[Any] = []
        inbox = self.inbox

        class Collect(Message):
            def handle_message(self, message: Any) -> None:
                inbox.append(message)

        self.controller = Controller(Collect(), hostname="127.0.0.1", port=self.port)

    def start(self) -> "Smtp":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
