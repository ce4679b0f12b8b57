"""Presence in queries: the rule of fleet.domain.presence over the device table."""

from datetime import datetime, timedelta

from tortoise.expressions import Q

from fleet.devices.models import Device
from fleet.domain import presence
from fleet.settings import get_settings


def window() -> timedelta:
    """How long a terminal counts as heard after its last message (FLEET_PRESENCE_WINDOW_S)."""
    return timedelta(seconds=get_settings().presence_window_s)


def online_q(now: datetime) -> Q:
    """Devices online at `now`: session online and heard within the window."""
    return Q(online=True) & Q(last_seen__gte=presence.heard_since(now, window()))


def offline_q(now: datetime) -> Q:
    """Every device `online_q` leaves out."""
    return Q(online=False) | Q(last_seen__isnull=True) | Q(last_seen__lt=presence.heard_since(now, window()))


def is_online(device: Device, now: datetime) -> bool:
    return presence.is_online(device.online, device.last_seen, now, window())
