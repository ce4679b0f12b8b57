"""Whether a terminal is online: its broker session says so *and* it has been heard lately.

The session alone can lie: a terminal frozen with its TCP connection open keeps a session until the
broker's keepalive gives up (an in-process broker may never), and after a broker restart a queued
`online` can arrive after the retained `offline`. So presence is applied by the terminal's own time
(`state_wins`), and it counts only while the terminal was heard within the window (`is_online`).
"""

from datetime import datetime, timedelta

# Three heartbeats of the default 60 s: one lost heartbeat is not an outage, three are.
DEFAULT_WINDOW = timedelta(seconds=180)


def heard_since(now: datetime, window: timedelta) -> datetime:
    """The earliest `last_seen` that still counts as heard at `now`."""
    return now - window


def is_online(online: bool, last_seen: datetime | None, now: datetime, window: timedelta) -> bool:
    """A terminal is online when its session state is online and it was heard within `window` of `now`."""
    return online and last_seen is not None and last_seen >= heard_since(now, window)


def state_wins(new_at: datetime | None, new_online: bool, old_at: datetime | None) -> bool:
    """Whether a presence state stamped `new_at` (terminal time) replaces one stamped `old_at`.

    Later wins. At the same time offline wins: a connection's last will carries the time that connection
    began, as its `online` does, and the will is always the later of the two. An offline without a time
    (a will from older firmware) ends whatever state is there; an online without one never wins over a
    stamped state.
    """
    if old_at is None:
        return True
    if new_at is None:
        return not new_online
    return new_at > old_at or (new_at == old_at and not new_online)
