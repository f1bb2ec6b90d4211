"""The Tracker application: the only way to write to the log."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError
from eventsourcing.utils import get_topic

from domain.dates import BusinessDate
from domain.errors import AlreadyExists, InvalidField, PartnershipNotFound, StaleVersion
from domain.event_types import event_type as type_spec
from domain.partnership import Partnership, event_class
from domain.transcodings import BusinessDateAsText, DateAsISO

T = TypeVar("T")

#: How often a write without If-Match re-reads and retries after losing a race.
MAX_ATTEMPTS = 60
#: How close in time two attempts at one write are (a retry after a lost answer comes within seconds).
OWN_WRITE_WINDOW = timedelta(minutes=5)
#: How far apart two processes' clocks may be when a retry compares an earlier attempt's time with its events'.
CLOCK_SLACK = timedelta(seconds=5)
#: The prefix of a request identity derived from the client's key (see :func:`is_client_identity`).
KEYED = "key:"
#: How many of a partnership's events a resumed write reads at a time, newest first, looking for its earlier attempt.
RESUME_PAGE = 100


@dataclass(frozen=True)
class Recorded:
    """What a successful command wrote: the partnership, its new version, the log position."""

    partnership_id: UUID
    version: int
    notification_id: int
    result: Any = None


class Tracker(Application):
    """Registers partnerships and records what happens to them, as events."""

    name = "Tracker"  # pinned: it names the PostgreSQL tables and the tracking rows
    snapshotting_intervals = {Partnership: 100}  # noqa: RUF012 (the library reads a class attribute)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(BusinessDateAsText())

    # --- commands ----------------------------------------------------------------------

    def register_partnership(
        self,
        fields: Mapping[str, Any],
        *,
        recorded_by: str,
        today: date,
        partnership_id: UUID | None = None,
        request_id: str | None = None,
    ) -> Recorded:
        """Register a partnership. ``request_id``: the identity of the request, kept with the event (see
        :meth:`record_event`); with a ``partnership_id`` derived from the client's key, a retry of a
        registration whose answer was lost finds its own partnership."""
        partnership = Partnership.register(
            partnership_id or uuid4(), recorded_by=recorded_by, today=today, request_id=request_id, **fields
        )
        pending = list(partnership.pending_events)
        try:
            recordings = self.save(partnership)
        except RecordConflictError:
            if self._written_already(pending):  # this very registration, committed before (its answer lost)
                return Recorded(partnership.id, partnership.version, 0)
            raise AlreadyExists("partnership_exists", partnership_id=partnership.id) from None
        return Recorded(partnership.id, partnership.version, recordings[-1].notification.id)

    def record_event(
        self,
        partnership_id: UUID,
        event_type: str,
        fields: Mapping[str, Any],
        *,
        recorded_by: str,
        today: date,
        expected_version: int | None = None,
        since: datetime | None = None,
        request_id: str | None = None,
    ) -> Recorded:
        """Record one event; with ``expected_version`` a stale version is refused, without it a lost race is retried.

        ``request_id``: the identity of the request (the same for every attempt at it), kept with the event.
        ``since``: this is a retry of a request whose earlier attempt, begun at that moment, ended without an
        answer (its outcome unknown: the store went away around its COMMIT). When that attempt's event is in
        the log (the event carrying this ``request_id``; without one, the same event by the same user, recorded
        since), it is the answer: not written again."""
        return self._update(
            partnership_id,
            expected_version,
            lambda p: p.record(event_type, dict(fields), recorded_by=recorded_by, today=today, request_id=request_id),
            since=since,
            request_id=request_id,
        )

    def preview_event(
        self,
        partnership_id: UUID,
        event_type: str,
        fields: Mapping[str, Any],
        *,
        recorded_by: str,
        today: date,
        expected_version: int | None = None,
    ) -> tuple[Partnership, Partnership.Event]:
        """What recording would append (the same checks, the same refusals), without appending it.

        Returns the partnership with the event applied, and the event.
        """
        partnership = self._current(partnership_id, expected_version)
        partnership.record(event_type, dict(fields), recorded_by=recorded_by, today=today)
        return partnership, partnership.collect_events()[-1]

    def flag_inactivity(self, partnership_id: UUID, *, today: date, days: int) -> Recorded | None:
        """Flag the partnership's current spell of inactivity and overdue plans, each once.

        Two scans racing write the same flag: the one that loses re-reads and finds it flagged (nothing to
        report), rather than taking the other scan's flag for its own (see :meth:`_written_already`)."""
        recorded = self._update(
            partnership_id, None, lambda p: p.flag_inactivity(today=today, days=days), own_writes=False
        )
        return recorded if recorded.result else None

    def acknowledge_reminder(
        self,
        partnership_id: UUID,
        flagged_version: int,
        *,
        note: str | None,
        recorded_by: str,
        today: date,
        request_id: str | None = None,
    ) -> Recorded:
        return self._update(
            partnership_id,
            None,
            lambda p: p.acknowledge(
                flagged_version, note=note, recorded_by=recorded_by, today=today, request_id=request_id
            ),
            request_id=request_id,
        )

    def get_partnership(self, partnership_id: UUID) -> Partnership:
        try:
            return self.repository.get(partnership_id)
        except AggregateNotFoundError:
            raise PartnershipNotFound(partnership_id) from None

    def is_empty(self) -> bool:
        return not self.recorder.max_notification_id()

    def import_events(self, events: Iterable[Partnership.Event]) -> int:
        """Append already-recorded events (from an export) to an empty store, in one transaction."""
        if not self.is_empty():
            raise AlreadyExists("store_not_empty")
        stored = [self.mapper.to_stored_event(e) for e in events]
        if stored:
            self.recorder.insert_events(stored)
        return len(stored)

    # --- internals --------------------------------------------------------------------

    def _current(self, partnership_id: UUID, expected_version: int | None) -> Partnership:
        """The partnership as stored now; with ``expected_version``, refused when it has moved on."""
        partnership = self.get_partnership(partnership_id)
        if expected_version is not None and partnership.version != expected_version:
            raise StaleVersion(expected_version, partnership.version)
        return partnership

    def _written_already(self, pending: list[Partnership.Event]) -> bool:
        """Whether the store holds exactly these events at their versions, written moments ago: the write that
        just "conflicted" is then this one, committed by an attempt whose answer was lost."""
        if not pending:
            return False
        first, last = pending[0].originator_version, pending[-1].originator_version
        stored = list(self.events.get(pending[0].originator_id, gt=first - 1, lte=last))
        if len(stored) != len(pending):
            return False
        if pending[0].request_id is not None and all(
            type(s) is type(p) and s.request_id == p.request_id for s, p in zip(stored, pending, strict=True)
        ):
            return True  # this very request's write (the identity is the same for each attempt at it)
        if is_client_identity(pending[0].request_id):
            return False  # the client's key names this request: another request's event never passes for it
        # a request without the client's key may be the same write sent again: the same content, moments apart
        return all(
            type(s) is type(p)
            and _content(s, "request_id") == _content(p, "request_id")
            and abs(s.timestamp - p.timestamp) < OWN_WRITE_WINDOW
            for s, p in zip(stored, pending, strict=True)
        )

    def _replayed(self, partnership_id: UUID, version: int, command: Callable[[Partnership], T]) -> Recorded | None:
        """The command run on the partnership as it stood at ``version``: when the events it makes are the ones
        stored right after that version (moments ago), the write was done before; None otherwise."""
        try:
            then = self.repository.get(partnership_id, version=version)
            result = command(then)
        except Exception:  # noqa: BLE001 - not the same write whatever went wrong: the caller's conflict stands
            return None
        pending = list(then.pending_events)
        if self._written_already(pending):
            return Recorded(partnership_id, pending[-1].originator_version, 0, result)
        return None

    def _recorded_since(self, partnership_id: UUID, since: datetime) -> list[Partnership.Event]:
        """The partnership's events recorded since ``since`` (less :data:`CLOCK_SLACK`), oldest first: read
        newest first, a page of :data:`RESUME_PAGE` at a time, however many other writers wrote in between (a
        minute of sixteen writers is hundreds of events)."""
        stored: list[Partnership.Event] = []
        below: int | None = None
        while True:
            page = list(self.events.get(partnership_id, desc=True, limit=RESUME_PAGE, lte=below))
            older = [e for e in page if e.timestamp < since - CLOCK_SLACK]
            stored += [e for e in page if e.timestamp >= since - CLOCK_SLACK]
            if older or len(page) < RESUME_PAGE:
                break
            below = page[-1].originator_version - 1
        stored.reverse()
        return stored

    def written_by_request(self, partnership_id: UUID, request_id: str, since: datetime) -> int | None:
        """The version of the last event that the request ``request_id`` recorded since ``since``, or None: how a
        retry whose first attempt's outcome is unknown (begun at ``since``) finds that attempt's write."""
        mine = [e for e in self._recorded_since(partnership_id, since) if e.request_id == request_id]
        return mine[-1].originator_version if mine else None

    def _written_since(self, partnership_id: UUID, pending: list[Partnership.Event], since: datetime) -> int | None:
        """For a request without an identity: the version at which an earlier attempt of this write, begun at
        ``since``, stored these same events (the same types and content, at whatever version), or None."""
        if not pending:
            return None
        stored = self._recorded_since(partnership_id, since)
        n = len(pending)
        for start in range(len(stored) - n + 1):
            window = stored[start : start + n]
            if all(
                type(s) is type(p)
                and _content(s, "originator_version", "request_id") == _content(p, "originator_version", "request_id")
                for s, p in zip(window, pending, strict=True)
            ):
                return window[-1].originator_version
        return None

    def _update(
        self,
        partnership_id: UUID,
        expected_version: int | None,
        command: Callable[[Partnership], T],
        *,
        own_writes: bool = True,
        since: datetime | None = None,
        request_id: str | None = None,
    ) -> Recorded:
        if since is not None and request_id is not None:
            # a retry after an unknown outcome: the earlier attempt's event, when in the log, is the answer,
            # found by the request's identity before the command runs again (which the write it made may refuse)
            version = self.written_by_request(partnership_id, request_id, since)
            if version is not None:
                return Recorded(partnership_id, version, 0)
        for attempt in range(MAX_ATTEMPTS):
            try:
                partnership = self._current(partnership_id, expected_version)
            except StaleVersion:
                if expected_version is None:
                    raise
                # a retry of a write that was committed before its answer was lost finds the partnership moved
                # on by exactly that write: answer with it instead of a conflict with itself
                earlier = self._replayed(partnership_id, expected_version, command)
                if earlier is None:
                    raise
                return earlier
            result = command(partnership)
            if not partnership.pending_events:
                return Recorded(partnership.id, partnership.version, 0, result)
            pending = list(partnership.pending_events)
            if since is not None and request_id is None and own_writes and attempt == 0:
                # a retry after an unknown outcome: the earlier attempt's event, when in the log, is the answer
                version = self._written_since(partnership_id, pending, since)
                if version is not None:
                    return Recorded(partnership_id, version, 0, result)
            try:
                recordings = self.save(partnership)
            except RecordConflictError:
                if own_writes and self._written_already(pending):
                    # Not a race: this very write was committed and its answer lost (the library retried the
                    # insert, which then met the rows it had written). Answer with it; never write it twice.
                    return Recorded(partnership.id, partnership.version, 0, result)
                if expected_version is not None:
                    raise StaleVersion(expected_version, expected_version + 1) from None
                # Lost a race: back off a little (jittered, growing) so many writers spread out.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 25)))
                continue
            return Recorded(partnership.id, partnership.version, recordings[-1].notification.id, result)
        raise RecordConflictError(f"gave up after {MAX_ATTEMPTS} conflicting writes to {partnership_id}")


def is_client_identity(request_id: str | None) -> bool:
    """Whether a request's identity follows from the client's own key (``key:...``: the same for every sending
    of that request), rather than made by the server for one sending (``req:...``) or absent."""
    return request_id is not None and request_id.startswith(KEYED)


def _content(event: Partnership.Event, *also_ignored: str) -> dict[str, Any]:
    """An event's content without the moment it was made (two attempts at one write differ only in that), and
    without the attributes named in ``also_ignored``."""
    ignored = {"timestamp", *also_ignored}
    return {name: value for name, value in vars(event).items() if name not in ignored}


def rebuild_event(
    *,
    partnership_id: UUID,
    version: int,
    event_type: str,
    occurred_on: BusinessDate | None,
    recorded_at: datetime,
    recorded_by: str,
    data: Mapping[str, Any],
) -> Partnership.Event:
    """The domain event an export entry describes (for ``tracker import``)."""
    try:
        cls = event_class(event_type)
    except KeyError:
        raise InvalidField("type", "unknown_event_type", event_type=event_type) from None
    fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise InvalidField("data", "unknown_fields", fields=sorted(unknown), event_type=event_type)
    kwargs: dict[str, Any] = {n: None for n in fields}
    dates = type_spec(event_type).date_fields
    for name, value in data.items():
        if name in dates and isinstance(value, str):
            value = BusinessDate.parse(value)
        elif name == "registered_on" and isinstance(value, str):
            value = date.fromisoformat(value)
        kwargs[name] = value
    kwargs.update(
        originator_id=partnership_id,
        originator_version=version,
        timestamp=recorded_at,
        occurred_on=occurred_on,
        recorded_by=recorded_by,
    )
    if cls is Partnership.PartnershipRegistered:
        kwargs["originator_topic"] = get_topic(Partnership)
    return cls(**kwargs)
