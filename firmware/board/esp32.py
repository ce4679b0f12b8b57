"""ESP32 terminal (e.g. a DevKitC in the reference enclosure): pin map for board.mcu."""

from board.mcu import McuBoard


class Board(McuBoard):
    UART_ID = 2
    UART_PINS = {"tx": 17, "rx": 16}
    KEY_ROWS = (13, 12, 14, 27)
    KEY_COLS = (26, 25, 33, 32)
    I2C_ID = 0
    I2C_PINS = {"scl": 22, "sda": 21}
    BATTERY_PIN = 34
