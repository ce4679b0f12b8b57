"""Indonesian (default) and English: the words of the pages, dates and Rupiah formatted for Indonesia."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fleet.domain.calendar import DEFAULT_ZONE, ZONES

LANGS = ("id", "en")

_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

TEXTS: dict[str, tuple[str, str]] = {
    "login": ("Masuk", "Log in"),
    "logout": ("Keluar", "Log out"),
    "username": ("Nama pengguna", "Username"),
    "password": ("Kata sandi", "Password"),
    "wrong_login": ("Nama pengguna atau kata sandi salah", "Wrong username or password"),
    "dashboard": ("Dasbor", "Dashboard"),
    "devices": ("Perangkat", "Devices"),
    "my_devices": ("Perangkat saya", "My devices"),
    "tickets": ("Perbaikan", "Repairs"),
    "repair_queue": ("Antrean perbaikan", "Repair queue"),
    "warranty_check": ("Cek garansi", "Warranty check"),
    "online": ("Online", "Online"),
    "offline": ("Offline", "Offline"),
    "alerts": ("Peringatan", "Alerts"),
    "more_alerts": ("dan {n} peringatan lagi", "and {n} more alerts"),
    "paper_out": ("Kertas habis", "Paper out"),
    "low_battery": ("Baterai lemah", "Low battery"),
    "offline_long": ("Offline lebih dari {hours} jam", "Offline for more than {hours} hours"),
    "unregistered": ("Serial tidak terdaftar", "Unregistered serials"),
    "suggestions": ("Saran perbaikan", "Repair suggestions"),
    "search": ("Cari", "Search"),
    "devices_count": ("{n} perangkat", "{n} devices"),
    "about": ("sekitar", "about"),
    "next_page": ("Halaman berikutnya", "Next page"),
    "first_page": ("Halaman pertama", "First page"),
    "settings": ("Pengaturan", "Settings"),
    "save": ("Simpan", "Save"),
    "saved": ("Tersimpan", "Saved"),
    "paylink_sent": ("Tagihan terkirim", "Pay link sent"),
    "problem_too_short": ("Jelaskan masalahnya (minimal 3 huruf)", "Describe the problem (at least 3 characters)"),
    "auto_cancel_bounds": (
        "Batas waktu pembatalan otomatis: {low} sampai {high} menit",
        "The auto-cancel window is {low} to {high} minutes",
    ),
    "auto_cancel": ("Batas waktu pembatalan otomatis (menit)", "Auto-cancel window (minutes)"),
    "auto_cancel_help": (
        "Pelanggan PayLater harus membayar dalam batas waktu ini.",
        "A PayLater customer must pay within this window.",
    ),
    "all": ("Semua", "All"),
    "serial": ("Serial", "Serial"),
    "model": ("Model", "Model"),
    "merchant": ("Merchant", "Merchant"),
    "ownership": ("Kepemilikan", "Ownership"),
    "purchased": ("Beli putus", "Purchased"),
    "rented": ("Sewa", "Rented"),
    "firmware": ("Firmware", "Firmware"),
    "last_seen": ("Terakhir terlihat", "Last seen"),
    "status": ("Status", "Status"),
    "warranty": ("Garansi", "Warranty"),
    "covered": ("Bergaransi", "Covered"),
    "not_covered": ("Tidak bergaransi", "Not covered"),
    "expires": ("Berakhir", "Expires"),
    "days_left": ("Sisa hari", "Days left"),
    "rental": ("Sewa", "Rental"),
    "telemetry": ("Telemetri", "Telemetry"),
    "battery": ("Baterai (%)", "Battery (%)"),
    "signal": ("Sinyal (dBm)", "Signal (dBm)"),
    "heap": ("Memori bebas (byte)", "Free memory (bytes)"),
    "printed": ("Panjang cetak (mm)", "Printed length (mm)"),
    "transactions": ("Transaksi", "Transactions"),
    "events": ("Kejadian", "Events"),
    "commands": ("Perintah", "Commands"),
    "send": ("Kirim", "Send"),
    "reprint": ("Cetak ulang", "Reprint"),
    "receipt_no": ("No. struk", "Receipt no."),
    "ping": ("Ping", "Ping"),
    "lock": ("Kunci penjualan", "Lock sales"),
    "unlock": ("Buka kunci", "Unlock sales"),
    "sales_locked": ("Penjualan terkunci", "Sales locked"),
    "sales_open": ("Penjualan terbuka", "Sales open"),
    "lock_waiting": ("menunggu terminal: {what}", "waiting for the terminal: {what}"),
    "lock_reason": ("Alasan (tampil di terminal)", "Reason (shown on the terminal)"),
    "confirm_lock": ("Ya, hentikan penjualan di terminal ini", "Yes, stop this terminal's sales"),
    "lock_needs_confirm": (
        "Penjualan tidak dikunci: centang konfirmasi dulu",
        "Sales not locked: tick the confirmation first",
    ),
    "open_ticket": ("Ajukan perbaikan", "Open a repair ticket"),
    "problem": ("Masalah", "Problem"),
    "state": ("Tahap", "State"),
    "due": ("Tenggat", "Due"),
    "overdue": ("Terlambat", "Overdue"),
    "courier": ("Kurir", "Courier"),
    "tracking": ("No. resi", "Tracking no."),
    "costs": ("Biaya", "Costs"),
    "history": ("Riwayat", "History"),
    "actions": ("Tindakan", "Actions"),
    "do": ("Lakukan", "Do it"),
    "invoice_number": ("No. faktur", "Invoice number"),
    "check": ("Periksa", "Check"),
    "not_registered": (
        "Tidak ada perangkat terdaftar dengan serial dan no. faktur ini",
        "No registered device has this serial and invoice number",
    ),
    "too_many": ("Terlalu banyak permintaan; coba lagi sebentar lagi", "Too many requests; try again shortly"),
    "what_is_covered": (
        "Garansi menanggung kerusakan perangkat; tidak termasuk kelalaian (terbanting, kena air) dan aksesoris "
        "(kabel charger, kepala charger)",
        "The warranty covers device defects; not negligence (dropped, water) nor accessories (charger cable, "
        "charger head)",
    ),
    "vendor": ("Vendor", "Vendor"),
    "inbound_shipping": ("Ongkir ke servis", "Shipping to service"),
    "return_shipping": ("Ongkir kembali", "Return shipping"),
    "parts": ("Suku cadang", "Parts"),
    "none": ("Tidak ada", "None"),
    "not_found": ("Tidak ditemukan", "Not found"),
    "not_rented": ("Bukan sewa", "Not rented"),
    "pay": ("Bayar", "Pay"),
    "send_paylink": ("Kirim tagihan", "Send pay link"),
    "upcoming": ("Belum mulai", "Upcoming"),
    "active": ("Aktif", "Active"),
    "ending_soon": ("Segera berakhir", "Ending soon"),
    "expired": ("Berakhir (masa tenggang)", "Ended (grace period)"),
    "overdue_rental": ("Lewat masa sewa: penjualan dikunci", "Overdue: sales locked"),
    "returned": ("Dikembalikan", "Returned"),
    "forbidden": ("Tidak diizinkan", "Not allowed"),
    "quarantine": ("Karantina pesan", "Message quarantine"),
    "quarantine_help": (
        "Pesan dari terminal yang diterima tetapi tidak disimpan: ditolak kontrak protokol, ditolak database, atau "
        "memakai kunci transaksi yang sudah tersimpan dengan isi lain. Penjualan lain tetap tersimpan.",
        "Messages from terminals that were received but not stored: refused by the protocol contract, refused by "
        "the database, or claiming a transaction key already stored with another body. Every other sale is stored.",
    ),
    "received_at": ("Diterima", "Received"),
    "topic": ("Topik", "Topic"),
    "reason": ("Alasan", "Reason"),
    "field": ("Kolom", "Field"),
    "detail": ("Keterangan", "Detail"),
    "size": ("Ukuran (byte)", "Size (bytes)"),
    "payload": ("Isi pesan", "Payload"),
    "page_of": ("Halaman {page} dari {pages} · {total} pesan", "Page {page} of {pages} · {total} messages"),
    "previous": ("Sebelumnya", "Previous"),
    "audit": ("Jejak audit", "Audit trail"),
    "audit_help": (
        "Siapa mengubah apa dan kapan: perintah, tiket, pengaturan, kredensial, impor, pengguna, refund, "
        "kasus pembayaran.",
        "Who changed what and when: commands, tickets, settings, credentials, imports, users, refunds, payment cases.",
    ),
    "audit_page_of": ("Halaman {page} dari {pages} · {total} entri", "Page {page} of {pages} · {total} entries"),
    "at": ("Waktu", "When"),
    "actor": ("Oleh", "By"),
    "action": ("Tindakan", "Action"),
    "target": ("Sasaran", "Target"),
    "change": ("Perubahan", "Change"),
    "action_family": ("Jenis tindakan", "Kind of action"),
    "next": ("Berikutnya", "Next"),
    "bad_topic": ("Topik salah", "Bad topic"),
    "bad_json": ("Bukan JSON yang sah", "Not valid JSON"),
    "too_large": ("Pesan terlalu besar", "Message too large"),
    "bad_version": ("Versi protokol salah", "Wrong protocol version"),
    "missing_field": ("Kolom wajib tidak ada", "Required field missing"),
    "wrong_type": ("Tipe kolom salah", "Wrong field type"),
    "bad_value": ("Nilai tidak sah", "Invalid value"),
    "serial_mismatch": ("Serial tidak cocok dengan topik", "Serial does not match its topic"),
    "bad_text": ("Teks tak dapat disimpan (NUL atau surrogate)", "Unstorable text (NUL or lone surrogate)"),
    "too_deep": ("Data bersarang terlalu dalam", "Data nested too deep"),
    "unstorable": ("Ditolak database", "Refused by the database"),
    "key_conflict": ("Kunci transaksi sama, isi berbeda", "Same transaction key, another body"),
}

# What terminals and commands say, in the reader's words: command names and states, event types and a
# sale's payment status (the wire's identifiers stay on the wire).
WORDS = {
    "cmd.config": ("Ubah pengaturan", "Change settings"),
    "cmd.reprint": ("Cetak ulang", "Reprint"),
    "cmd.ping": ("Ping", "Ping"),
    "cmd.lock": ("Kunci penjualan", "Lock sales"),
    "cmd.unlock": ("Buka kunci", "Unlock sales"),
    "cmd.pay_confirm": ("Konfirmasi pembayaran", "Payment confirmation"),
    "cmd.set_clock": ("Setel jam", "Set the clock"),
    "cmd.replacement": ("Pesanan pengganti", "Replacement order"),
    "cmd.paylater": ("Jawaban PayLater", "PayLater answer"),
    "cmd.refund_answer": ("Jawaban refund", "Refund answer"),
    "cmd_state.pending": ("Menunggu terminal", "Waiting for the terminal"),
    "cmd_state.sent": ("Terkirim", "Sent"),
    "cmd_state.acked": ("Dijalankan", "Done"),
    "cmd_state.failed": ("Gagal", "Failed"),
    "cmd_state.expired": ("Kedaluwarsa", "Expired"),
    "event.sale": ("Penjualan", "Sale"),
    "event.payment": ("Pembayaran", "Payment"),
    "event.refund": ("Refund", "Refund"),
    "event.void": ("Pembatalan", "Void"),
    "event.open": ("Transaksi dibuka", "Sale opened"),
    "event.receipt": ("Struk dicetak", "Receipt printed"),
    "event.fault": ("Gangguan", "Fault"),
    "event.boot": ("Terminal menyala", "Terminal started"),
    "pay.paid": ("Lunas", "Paid"),
    "pay.partially_paid": ("Dibayar sebagian", "Partly paid"),
    "pay.unpaid": ("Belum dibayar", "Unpaid"),
    "pay.pending": ("Menunggu pembayaran", "Payment pending"),
    "pay.confirmed": ("Pembayaran diterima", "Payment received"),
    "pay.cancelled": ("Dibatalkan", "Cancelled"),
    "pay.cash": ("Tunai", "Cash"),
    "pay.qris": ("QRIS", "QRIS"),
    "pay.card": ("Kartu", "Card"),
    "pay.paylater": ("PayLater", "PayLater"),
}

STATES = {
    "opened": ("Dibuka", "Opened"),
    "awaiting_shipment": ("Menunggu pengiriman", "Awaiting shipment"),
    "in_transit": ("Dalam pengiriman", "In transit"),
    "received": ("Diterima", "Received"),
    "diagnosing": ("Diagnosa", "Diagnosing"),
    "quoted": ("Penawaran biaya", "Quoted"),
    "repairing": ("Diperbaiki", "Repairing"),
    "waiting_parts": ("Menunggu suku cadang", "Waiting for parts"),
    "repaired": ("Selesai diperbaiki", "Repaired"),
    "replaced": ("Diganti unit baru", "Replaced"),
    "refunded": ("Dana dikembalikan", "Refunded"),
    "returned_unrepaired": ("Dikembalikan tanpa perbaikan", "Returned unrepaired"),
    "return_shipment": ("Dikirim kembali", "Return shipment"),
    "closed": ("Selesai", "Closed"),
    "referred": ("Dirujuk ke service center", "Referred to a service centre"),
    "cancelled": ("Dibatalkan", "Cancelled"),
}


def text(lang: str, key: str, **values: object) -> str:
    pair = TEXTS.get(key) or STATES.get(key) or WORDS.get(key)
    if pair is None:
        return key
    return pair[0 if lang == "id" else 1].format(**values)


def word(lang: str, family: str, value: object) -> str:
    """A wire identifier of `family` (cmd, cmd_state, event, pay) in the reader's words; one the pages do
    not know yet is shown as it is."""
    pair = WORDS.get(f"{family}.{value}")
    return str(value) if pair is None else pair[0 if lang == "id" else 1]


def rupiah(amount: int | None) -> str:
    """Integer Rupiah as Indonesians write it: Rp 1.250.000."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def day(value: date | None, lang: str) -> str:
    if value is None:
        return "-"
    return f"{value.day} {_MONTHS[lang][value.month - 1]} {value.year}"


def moment(value: datetime | None, lang: str, zone: str = DEFAULT_ZONE) -> str:
    """A moment as its reader reads it: the day and time in `zone`, named (WIB, WITA or WIT)."""
    if value is None:
        return "-"
    local = value.astimezone(ZoneInfo(zone))
    return f"{day(local.date(), lang)} {local:%H:%M} {ZONES.get(zone, zone)}"
