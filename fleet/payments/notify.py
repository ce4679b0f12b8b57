"""Notices to customers and merchants: email through SMTP, SMS through the gateway's carrier (+62 only)."""

import asyncio
import smtplib
from email.message import EmailMessage

from fleet.payments.gateway import Acquirer
from fleet.settings import get_settings


def _send_email(to: str, subject: str, body: str) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, to, subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


async def notify(acquirer: Acquirer | None, email: str | None, phone: str | None, subject: str, text: str) -> list[str]:
    """Send `text` by email and/or SMS; returns the channels used (SMS only to +62 numbers)."""
    used = []
    if email:
        await asyncio.to_thread(_send_email, email, subject, text)
        used.append("email")
    if phone and phone.startswith("+62") and acquirer is not None:
        await acquirer.send_sms(phone, text[:480])
        used.append("sms")
    return used
