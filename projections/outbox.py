"""The mail outbox: reminder events in the log not yet mailed, after the mailer's own tracking position.

The reminder events are the outbox (no second table to keep in step): the mailer
reads ``inactivity_flagged`` notifications after its position and moves the
position only after a message was handed to SMTP, so an outage delays mail and
never loses it.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.partnership import Partnership
from infrastructure.store import Db

MAILER = "Tracker.mailer"


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
