"""RP2040 terminal (e.g. a Pico W in the reference enclosure): pin map for board.mcu."""

from board.mcu import McuBoard


class Board(McuBoard):
    UART_ID = 1
    UART_PINS = {"tx": 4, "rx": 5}
    KEY_ROWS = (6, 7, 8, 9)
    KEY_COLS = (10, 11, 12, 13)
    I2C_ID = 0
    I2C_PINS = {"scl": 1, "sda": 0}
    BATTERY_PIN = 26  # ADC0; the Pico's VSYS/3 on ADC3 is board-specific
