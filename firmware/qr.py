"""A QR code encoder small enough for MicroPython: byte mode, EC level L or M, versions 1-20.

For printers without a native QR command the receipt prints the matrix as a raster image (GS v 0).
The matrix is two bitmaps, one bit per module: `bits` (dark) and `func` (function patterns, which data
and masks never touch). A version 11 symbol takes 2 x 466 bytes rather than the 3.7 KB of a byte per
module, which a fragmented device heap may not have in one piece. Mask choice uses the standard penalty rules
1, 2 and 4 (rule 3 changes no decodability and costs the most to compute).
"""

# Per version 1..20 (index 0 unused): EC codewords per block, and number of blocks, for L and M.
_ECC = {
    "L": (0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28),
    "M": (0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26),
}
_BLOCKS = {
    "L": (0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8),
    "M": (0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16),
}
_FORMAT_BITS = {"L": 1, "M": 0}
MAX_VERSION = 20

_EXP = bytearray(512)
_LOG = bytearray(256)


def _init_gf():
    x = 1
    for i in range(255):
        _EXP[i] = x
        _LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        _EXP[i] = _EXP[i - 255]


def _gf_mul(a, b):
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def _raw_modules(ver):
    result = (16 * ver + 128) * ver + 64
    if ver >= 2:
        n = ver // 7 + 2
        result -= (25 * n - 10) * n - 55
        if ver >= 7:
            result -= 36
    return result


def _data_capacity(ver, ecl):
    return _raw_modules(ver) // 8 - _ECC[ecl][ver] * _BLOCKS[ecl][ver]


def _align_positions(ver, size):
    if ver == 1:
        return ()
    n = ver // 7 + 2
    step = (ver * 4 + n * 2 + 1) // (n * 2 - 2) * 2
    out = [6]
    pos = size - 7
    for _ in range(n - 1):
        out.insert(1, pos)
        pos -= step
    return out


class QR:
    """An encoded QR symbol: `size` x `size` modules; `dark(x, y)` tells one module."""

    def __init__(self, data, ecl="M"):
        if not _EXP[0]:
            _init_gf()
        if isinstance(data, str):
            data = data.encode()
        self.ecl = ecl
        for ver in range(1, MAX_VERSION + 1):
            count_bits = 8 if ver < 10 else 16
            if 4 + count_bits + 8 * len(data) <= _data_capacity(ver, ecl) * 8:
                break
        else:
            raise ValueError("data too long for a version %d QR code" % MAX_VERSION)
        self.version = ver
        self.size = size = ver * 4 + 17
        cells = (size * size + 7) >> 3
        self.bits = bytearray(cells)  # dark modules, row-major, LSB first
        self.func = bytearray(cells)  # function modules
        self._draw_function_patterns()
        codewords = self._add_ecc(self._encode_data(data, count_bits))
        self._place(codewords)
        best = -1
        best_penalty = 1 << 30
        for mask in range(8):
            self._apply_mask(mask)
            self._draw_format(mask)
            penalty = self._penalty()
            if penalty < best_penalty:
                best, best_penalty = mask, penalty
            self._apply_mask(mask)  # xor again: undo
        self._apply_mask(best)
        self._draw_format(best)

    def dark(self, x, y):
        i = y * self.size + x
        return (self.bits[i >> 3] >> (i & 7)) & 1

    # -- building ----------------------------------------------------------------------------------------

    def _set(self, x, y, dark, function=True):
        i = y * self.size + x
        j = i >> 3
        m = 1 << (i & 7)
        if dark:
            self.bits[j] |= m
        else:
            self.bits[j] &= 0xFF ^ m
        if function:
            self.func[j] |= m

    def _draw_function_patterns(self):
        size = self.size
        for i in range(size):
            self._set(6, i, i % 2 == 0)
            self._set(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        dist = max(abs(dx), abs(dy))
                        self._set(x, y, dist not in (2, 4))
        pos = _align_positions(self.version, size)
        last = len(pos) - 1
        for i, ax in enumerate(pos):
            for j, ay in enumerate(pos):
                if (i == 0 and j == 0) or (i == 0 and j == last) or (i == last and j == 0):
                    continue
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self._set(ax + dx, ay + dy, max(abs(dx), abs(dy)) != 1)
        self._draw_format(0)  # reserve the format areas
        if self.version >= 7:
            rem = self.version
            for _ in range(12):
                rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
            bits = self.version << 12 | rem
            for i in range(18):
                bit = (bits >> i) & 1
                a, b = size - 11 + i % 3, i // 3
                self._set(a, b, bit)
                self._set(b, a, bit)

    def _draw_format(self, mask):
        data = _FORMAT_BITS[self.ecl] << 3 | mask
        rem = data
        for _ in range(10):
            rem = (rem << 1) ^ ((rem >> 9) * 0x537)
        bits = (data << 10 | rem) ^ 0x5412
        size = self.size
        for i in range(6):
            self._set(8, i, (bits >> i) & 1)
        self._set(8, 7, (bits >> 6) & 1)
        self._set(8, 8, (bits >> 7) & 1)
        self._set(7, 8, (bits >> 8) & 1)
        for i in range(9, 15):
            self._set(14 - i, 8, (bits >> i) & 1)
        for i in range(8):
            self._set(size - 1 - i, 8, (bits >> i) & 1)
        for i in range(8, 15):
            self._set(8, size - 15 + i, (bits >> i) & 1)
        self._set(8, size - 8, 1)

    def _encode_data(self, data, count_bits):
        capacity = _data_capacity(self.version, self.ecl)
        out = bytearray(capacity)
        state = [0, 0]  # bit position, unused

        def put(value, nbits):
            pos = state[0]
            for i in range(nbits - 1, -1, -1):
                if (value >> i) & 1:
                    out[pos >> 3] |= 0x80 >> (pos & 7)
                pos += 1
            state[0] = pos

        put(0b0100, 4)
        put(len(data), count_bits)
        for byte in data:
            put(byte, 8)
        put(0, min(4, capacity * 8 - state[0]))
        index = (state[0] + 7) // 8
        pad = 0xEC
        while index < capacity:
            out[index] = pad
            pad ^= 0xEC ^ 0x11
            index += 1
        return out

    def _add_ecc(self, data):
        ver, ecl = self.version, self.ecl
        nblocks = _BLOCKS[ecl][ver]
        ecc_len = _ECC[ecl][ver]
        raw = _raw_modules(ver) // 8
        short_count = nblocks - raw % nblocks
        short_len = raw // nblocks
        divisor = _rs_divisor(ecc_len)
        blocks = []
        k = 0
        for i in range(nblocks):
            dlen = short_len - ecc_len + (0 if i < short_count else 1)
            block = data[k : k + dlen]
            k += dlen
            blocks.append((block, _rs_remainder(block, divisor)))
        out = bytearray(raw)
        n = 0
        for i in range(short_len + 1 - ecc_len):
            for j, (block, _) in enumerate(blocks):
                if i < len(block):
                    out[n] = block[i]
                    n += 1
        for i in range(ecc_len):
            for _, ecc in blocks:
                out[n] = ecc[i]
                n += 1
        return out

    def _place(self, codewords):
        size = self.size
        bits, func = self.bits, self.func
        total = len(codewords) * 8
        i = 0
        right = size - 1
        while right >= 1:
            if right == 6:
                right = 5
            upward = ((right + 1) & 2) == 0
            for vert in range(size):
                y = size - 1 - vert if upward else vert
                for j in range(2):
                    k = y * size + right - j
                    m = 1 << (k & 7)
                    if not func[k >> 3] & m and i < total:
                        if (codewords[i >> 3] >> (7 - (i & 7))) & 1:
                            bits[k >> 3] |= m
                        i += 1
            right -= 2

    def _apply_mask(self, mask):
        size = self.size
        bits, func = self.bits, self.func
        k = 0
        for y in range(size):
            for x in range(size):
                j = k >> 3
                m = 1 << (k & 7)
                k += 1
                if func[j] & m:
                    continue
                if mask == 0:
                    flip = (x + y) % 2 == 0
                elif mask == 1:
                    flip = y % 2 == 0
                elif mask == 2:
                    flip = x % 3 == 0
                elif mask == 3:
                    flip = (x + y) % 3 == 0
                elif mask == 4:
                    flip = (x // 3 + y // 2) % 2 == 0
                elif mask == 5:
                    flip = x * y % 2 + x * y % 3 == 0
                elif mask == 6:
                    flip = (x * y % 2 + x * y % 3) % 2 == 0
                else:
                    flip = ((x + y) % 2 + x * y % 3) % 2 == 0
                if flip:
                    bits[j] ^= m

    def _penalty(self):
        size = self.size
        bits = self.bits
        score = 0
        dark = 0
        for y in range(size):
            for step, k in ((1, y * size), (size, y)):  # row y, then column y
                run = 0
                colour = -1
                for _ in range(size):
                    c = (bits[k >> 3] >> (k & 7)) & 1
                    k += step
                    if c == colour:
                        run += 1
                        if run == 5:
                            score += 3
                        elif run > 5:
                            score += 1
                    else:
                        colour = c
                        run = 1
            k = y * size
            for x in range(size):
                c = (bits[k >> 3] >> (k & 7)) & 1
                dark += c
                if y < size - 1 and x < size - 1:
                    k1, k2, k3 = k + 1, k + size, k + size + 1
                    if (
                        c == (bits[k1 >> 3] >> (k1 & 7)) & 1
                        and c == (bits[k2 >> 3] >> (k2 & 7)) & 1
                        and c == (bits[k3 >> 3] >> (k3 & 7)) & 1
                    ):
                        score += 3
                k += 1
        total = size * size
        k = (abs(dark * 20 - total * 10) + total - 1) // total - 1
        return score + k * 10

    # -- output ------------------------------------------------------------------------------------------

    def raster_rows(self, scale, quiet=4):
        """Yield rows of a 1-bit image (MSB first, 1 = black), `scale` dots per module, with a quiet zone.

        The same bytearray is reused for every row: consume each row before asking for the next.
        """
        size = self.size
        dots = (size + 2 * quiet) * scale
        row = bytearray((dots + 7) // 8)
        for y in range(-quiet, size + quiet):
            for i in range(len(row)):
                row[i] = 0
            if 0 <= y < size:
                bits = self.bits
                k = y * size
                for x in range(size):
                    dark = (bits[k >> 3] >> (k & 7)) & 1
                    k += 1
                    if dark:
                        start = (x + quiet) * scale
                        for d in range(start, start + scale):
                            row[d >> 3] |= 0x80 >> (d & 7)
            for _ in range(scale):
                yield row

    def raster_size(self, scale, quiet=4):
        """(width in bytes, height in dots) of raster_rows(scale, quiet)."""
        dots = (self.size + 2 * quiet) * scale
        return (dots + 7) // 8, dots


def _rs_divisor(degree):
    result = bytearray(degree)
    result[degree - 1] = 1
    root = 1
    for _ in range(degree):
        for j in range(degree):
            result[j] = _gf_mul(result[j], root)
            if j + 1 < degree:
                result[j] ^= result[j + 1]
        root = _gf_mul(root, 0x02)
    return result


def _rs_remainder(data, divisor):
    result = bytearray(len(divisor))
    n = len(divisor)
    for b in data:
        factor = b ^ result[0]
        for i in range(n - 1):  # shift left in place: no new buffer per data byte
            result[i] = result[i + 1] ^ _gf_mul(divisor[i], factor)
        result[n - 1] = _gf_mul(divisor[n - 1], factor)
    return result
