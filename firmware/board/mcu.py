"""A real terminal on a microcontroller: printer on a UART, 4x4 matrix keypad, SSD1306 display,
battery on an ADC behind a 1:2 divider. esp32.py and rp2.py give the pins; this file does the rest.
"""

import asyncio
import gc
import os
import sys
import time

import machine

from board import Uptime, tls_context

_KEYS = ("123A", "456B", "789C", "*0#D")


class UartPort:
    def __init__(self, uart):
        self.uart = uart

    def write(self, data):
        self.uart.write(data)

    def read_byte(self, timeout_ms):
        deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
        while time.ticks_diff(deadline, time.ticks_ms()) > 0:
            if self.uart.any():
                return self.uart.read(1)[0]
        return None


class Display:
    """An SSD1306 OLED through micropython-lib's driver when present; else the REPL console."""

    def __init__(self, i2c):
        self.oled = None
        try:
            import ssd1306  # type: ignore[import-not-found]  # micropython-lib's driver, installed with mip

            self.oled = ssd1306.SSD1306_I2C(128, 32, i2c)
        except (ImportError, OSError):
            pass

    def show(self, top, bottom=""):
        if self.oled is None:
            print("[display]", top, "|", bottom)
            return
        self.oled.fill(0)
        self.oled.text(top[:16], 0, 0)
        self.oled.text(bottom[:16], 0, 16)
        self.oled.show()


class Keypad:
    """Scans a 4x4 matrix: rows driven low one at a time, columns read with pull-ups."""

    def __init__(self, rows, cols):
        self.rows = [machine.Pin(p, machine.Pin.OUT, value=1) for p in rows]
        self.cols = [machine.Pin(p, machine.Pin.IN, machine.Pin.PULL_UP) for p in cols]

    def scan(self):
        for r, row in enumerate(self.rows):
            row.value(0)
            for c, col in enumerate(self.cols):
                if not col.value():
                    row.value(1)
                    return _KEYS[r][c]
            row.value(1)
        return None


class McuBoard:
    # Pin maps are filled in by esp32.py / rp2.py.
    UART_ID = 1
    UART_PINS = {}  # type: dict[str, int]
    KEY_ROWS = ()  # type: tuple[int, ...]
    KEY_COLS = ()  # type: tuple[int, ...]
    I2C_ID = 0
    I2C_PINS = {}  # type: dict[str, int]
    BATTERY_PIN = None  # type: int | None
    flash_root = "/flash"

    def __init__(self):
        uart = machine.UART(self.UART_ID, baudrate=9600, **self.UART_PINS)
        self.printer_port = UartPort(uart)
        self.display = Display(machine.I2C(self.I2C_ID, **self.I2C_PINS))
        self.keypad = Keypad(self.KEY_ROWS, self.KEY_COLS)
        self.card_reader = None  # an approved external reader is paired per deployment
        self.adc = machine.ADC(machine.Pin(self.BATTERY_PIN)) if self.BATTERY_PIN is not None else None
        self.boot_reason = _reset_cause()
        self._uptime = Uptime()
        try:
            os.stat(self.flash_root)
        except OSError:
            self.flash_root = ""

    def now(self):
        return time.time()

    def set_clock(self, t):
        tm = time.gmtime(t)
        machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0))

    def battery(self):
        if self.adc is None:
            return None, False
        millivolts = self.adc.read_u16() * 3300 * 2 // 65535
        # A single Li-ion cell: 3.3 V empty, 4.2 V full.
        return max(0, min(100, (millivolts - 3300) * 100 // 900)), False

    def mem_free(self):
        return gc.mem_free()

    def uptime_s(self):
        return self._uptime.seconds()

    def randint(self, n):
        return int.from_bytes(os.urandom(2), "big") % n

    def rssi(self):
        wlan = self._wlan()
        try:
            return wlan.status("rssi") if wlan.isconnected() else None
        except (OSError, ValueError):
            return None

    def _wlan(self):
        import network

        return network.WLAN(network.STA_IF)

    def connector(self, tls):
        """Bring Wi-Fi up (credentials in wifi.json on flash), then open an asyncio stream to the broker."""
        import json

        async def open_connection(host, port):
            wlan = self._wlan()
            if not wlan.isconnected():
                with open(self.flash_root + "/wifi.json") as f:
                    wifi = json.load(f)
                wlan.active(True)
                wlan.connect(wifi["ssid"], wifi["password"])
                for _ in range(100):
                    if wlan.isconnected():
                        break
                    await asyncio.sleep_ms(100)
                else:
                    raise OSError("Wi-Fi did not connect")
            context = tls_context(self.flash_root + "/ca.der") if tls else None
            return await asyncio.open_connection(host, port, ssl=context)

        return open_connection

    def random(self, n):
        return os.urandom(n)

    def hw_id(self):
        return "".join("%02x" % b for b in machine.unique_id())

    def log_exception(self, e):
        sys.print_exception(e)

    def shutdown(self):
        pass

    async def run(self, till, link=None):
        last = None
        while True:
            key = self.keypad.scan()
            if key is not None and key != last:
                till.inbox.put(("key", key))
            last = key
            await asyncio.sleep_ms(30)  # also debounces


def _reset_cause():
    cause = machine.reset_cause()
    names = {
        getattr(machine, "PWRON_RESET", -1): "power_on",
        getattr(machine, "HARD_RESET", -2): "hard_reset",
        getattr(machine, "WDT_RESET", -3): "watchdog",
        getattr(machine, "DEEPSLEEP_RESET", -4): "deep_sleep",
        getattr(machine, "SOFT_RESET", -5): "soft_reset",
    }
    return names.get(cause, "unknown")
