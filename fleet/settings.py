"""Service settings, read from the environment (prefix FLEET_) through `get_settings()` only."""

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be told from outside. Secrets have no default that would work."""

    model_config = SettingsConfigDict(env_prefix="FLEET_", extra="ignore")

    database_url: str = "sqlite://var/fleet.sqlite3"
    database_pool: int = 20  # PostgreSQL connections one process may hold (the API's; each ingest worker's)
    # Empty: the service starts its own in-process broker. Otherwise mqtt://user:pass@host:port.
    broker_url: str = ""
    broker_port: int = 1883  # the in-process broker's port (a free one when it is taken)
    ingest_workers: int = 1
    # A terminal counts as online while its session is and it was heard within this many seconds (three
    # heartbeats of the default 60 s): see fleet.domain.presence.
    presence_window_s: int = 180
    housekeeping_s: float = 60  # how often the periodic jobs run (suggestions, rentals, RF1, O1, alerts)
    # Whether the service office closes on the government's collective leave days (cuti bersama): then they
    # are not working days for S1 and RF1 (S2). A business decision; off, only public holidays count.
    collective_leave: bool = False
    # Signs login tokens. No default: `fleet serve` refuses to start without it; `fleet demo` makes a
    # throw-away one for its own run.
    jwt_secret: SecretStr | None = None
    # The payment gateway (the sandbox: python -m tools.sandbox_gateway). Empty: payments are off.
    gateway_url: str = ""
    gateway_api_key: SecretStr | None = None
    gateway_webhook_secret: SecretStr | None = None
    webhook_window_s: int = 300  # a webhook signed longer ago than this is refused (replay window)
    # Invoices (pay links) by email: the SMTP server and sender; the public URL customers open.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    mail_from: str = "invoices@fleet.invalid"
    # Where alerts for Biz Support go (O1: an activation deadline near); none: shown in the API only.
    support_email: str | None = None
    # Alert webhooks go only to public addresses over https; true: also to private and loopback ones and
    # over http (a closed network, the tests).
    webhook_private_ok: bool = False
    public_url: str = "http://127.0.0.1:8000"
    # The reverse proxies whose X-Forwarded-For names the client (addresses or networks, comma-separated).
    # Empty: none, the peer of the connection is the client; a forwarded header is ignored, whoever sends it.
    trusted_proxies: str = ""


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
