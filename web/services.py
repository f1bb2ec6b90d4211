"""The composition root's parts: one Tracker, its read models and the users, per process."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from domain.application import Tracker
from projections.projection import Projection, views_recorder
from projections.queries import Clock
from projections.store import Db
from web.config import Config
from web.users import UserStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    tracker: Tracker
    db: Db
    projection: Projection
    users: UserStore
    _follower: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def clock(self) -> Clock:
        return Clock(self.config.today(), self.config.inactivity_days)

    def today(self):  # noqa: ANN201 - a date
        return self.config.today()

    def after_command(self) -> None:
        """Read your writes: bring the read models up to the log before answering."""
        self.projection.catch_up()

    def follow(self, interval: float = 0.5) -> None:
        """Keep the read models following the log in a background thread (other processes' writes)."""
        if self._follower is not None:
            return

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.projection.catch_up()
                except Exception:  # keep following; the next round retries
                    log.exception("catching up the read models failed")

        self._follower = threading.Thread(target=run, name="projection-follower", daemon=True)
        self._follower.start()

    def secret_key(self) -> str:
        if self.config.secret_key:
            return self.config.secret_key
        path = self.config.secret_key_file()
        if path is None:
            return self.users.setting("secret_key", secrets.token_urlsafe(48))
        return _key_file(path)

    def close(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join(5)
        self.tracker.close()


def _key_file(path: Path) -> str:
    if not path.exists():
        try:
            with path.open("x", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip()


def build_services(config: Config, *, catch_up: bool = True) -> Services:
    """Open the store named by the configuration and (unless told not to) catch the read models up."""
    if not config.is_postgres:
        parent = Path(config.database).resolve().parent
        if not parent.is_dir():
            raise FileNotFoundError(f"TRACKER_DATABASE: folder {parent} does not exist")
    tracker = Tracker(env=config.eventsourcing_env())
    db = Db(views_recorder(tracker))
    projection = Projection(tracker, db)
    users = UserStore(db, create_tables=config.create_tables)
    services = Services(config=config, tracker=tracker, db=db, projection=projection, users=users)
    if config.create_tables:
        projection.ensure_layout()
    if catch_up:
        projection.catch_up()
    return services
