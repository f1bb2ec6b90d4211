"""The mail outbox: reminder events in the log not yet mailed, after the mailer's own tracking position.

The reminder events are the outbox (no second table to keep in step): the mailer
reads ``inactivity_flagged`` notifications after its position and moves the
position only after a message was handed to SMTP, so an outage delays mail and
never loses it.

A message that can never be sent (a header or an address refused for good) is *set aside*: a row in the
tracker's own settings table (outside the event log, which records facts about partnerships, not about
mail), written in the same transaction that moves the position past it, so it is reported once and never
holds up the messages behind it.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.partnership import Partnership
from infrastructure.store import Db

MAILER = "Tracker.mailer"
#: The settings rows of the messages set aside: ``outbox.set_aside.<notification id, 12 digits>``.
SET_ASIDE = "outbox.set_aside."


class Outbox:
    topics = (get_topic(Partnership.InactivityFlagged),)

    def __init__(self, app: Application, db: Db, name: str = MAILER) -> None:
        self.app = app
        self.db = db
        self.name = name

    @property
    def position(self) -> int:
        with self.db.transaction(write=False) as tx:
            return tx.tracking_position(self.name)

    def pending(self, limit: int = 100) -> list[tuple[int, Any]]:
        """(notification id, event) of reminder events not yet mailed, oldest first."""
        notifications = self.app.recorder.select_notifications(
            start=self.position, limit=limit, inclusive_of_start=False, topics=self.topics
        )
        return [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]

    def mark_sent(self, notification_id: int) -> None:
        with self.db.transaction(write=True) as tx:
            tx.insert_tracking(Tracking(self.name, notification_id))

    def set_aside(self, notification_id: int, record: dict[str, Any]) -> None:
        """Move past a message that cannot be sent, keeping why (``record``: JSON-able) for the operator."""
        settings = self.db.table("tracker_settings")
        with self.db.transaction(write=True) as tx:
            tx.execute(
                f"INSERT INTO {settings} (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (f"{SET_ASIDE}{notification_id:012d}", json.dumps(record, ensure_ascii=False, sort_keys=True)),
            )
            tx.insert_tracking(Tracking(self.name, notification_id))

    def set_aside_messages(self) -> list[dict[str, Any]]:
        """Every message set aside, oldest first (each with its ``notification_id``)."""
        settings = self.db.table("tracker_settings")
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                f"SELECT name, value FROM {settings} WHERE name LIKE ? ORDER BY name", (f"{SET_ASIDE}%",)
            ).fetchall()
        mine = [r for r in rows if r["name"].startswith(SET_ASIDE)]  # LIKE's "_" matches any character
        return [{**json.loads(r["value"]), "notification_id": int(r["name"][len(SET_ASIDE) :])} for r in mine]
