"""The ``tracker`` command line. Every command is a thin wrapper over a tested function."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from application import timeparse
from application.config import Config, ConfigError, load_config
from application.services import Services, StoreNotInitialised, build_services
from application.vocabulary import DEFAULT_LANGUAGE, LANGUAGES
from domain.errors import DomainError


class CliError(click.ClickException):
    """A one-line error and a non-zero exit."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@contextmanager
def opened(config: Config | None = None, *, catch_up: bool = True) -> Iterator[Services]:
    """The services over the configured store, closed afterwards; config errors become one line."""
    try:
        services = build_services(config or load_config(), catch_up=catch_up)
    except (ConfigError, FileNotFoundError, StoreNotInitialised) as e:
        raise CliError(str(e)) from None
    except Exception as e:  # a store that cannot be opened: say which, in one line
        raise CliError(f"cannot open the store: {type(e).__name__}: {e}".splitlines()[0]) from None
    try:
        yield services
    finally:
        services.close()


def parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return timeparse.parse_day(value)
    except ValueError:
        raise CliError(f"{name} must be a date, YYYY-MM-DD, not {value!r}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Exchange-programme tracker: the county's foreign partnerships as an append-only log."""


# --- serve ---------------------------------------------------------------------------------


DEMO_USERS = (
    ("urzednik", "officer", "urzednik@example.org"),
    ("audytor", "auditor", "audytor@example.org"),
    ("kierownik", "manager", "kierownik@example.org"),
    ("admin", "admin", None),
)


def load_demo(services: Services) -> list[tuple[str, str, str, str]]:
    """The county's seed and one demo user per role, each with a random password (never a published one);
    returns (name, role, password, token) of the users created, to be shown once."""
    import secrets

    services.load_seed()
    created = []
    if services.users.count() == 0:
        for name, role, email in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            token = services.users.add(name, role, email=email, password=password, actor="system")
            created.append((name, role, password, token))
    return created


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes (gunicorn)."
)
@click.option("--no-demo", is_flag=True, help="Do not load the demo data into an empty store.")
@click.option(
    "--no-jobs",
    is_flag=True,
    help="Do not run the scheduled jobs in this process. On the embedded (SQLite) store with one worker, serve "
    "runs them (inactivity check at start when it has not run today, then 07:00; mail outbox; digest) unless "
    "another scheduler holds the lock. On PostgreSQL or with --workers > 1 they never run here: "
    "run one `tracker scheduler` process.",
)
def serve(host: str, port: int, threads: int, workers: int, no_demo: bool, no_jobs: bool) -> None:
    """Serve the web UI and the API with a production WSGI server (waitress, or gunicorn for --workers > 1).

    On the embedded (SQLite) store with one worker it also runs the scheduled jobs, as `tracker scheduler`
    does (see --no-jobs); on PostgreSQL or with --workers > 1 run `tracker scheduler` separately.
    """
    from contextlib import ExitStack

    from entrypoints.scheduler import jobs_in_serve_allowed, start_in_serve

    _stop_on_signals()
    _check_port_free(host, port)  # before the store is touched: a taken port loads no demo data, runs no job
    with opened() as services, ExitStack() as stack:
        if not no_demo and services.tracker.is_empty():
            created = load_demo(services)
            click.echo(f"Loaded the demo data: {services.projection.position} events.")
            if created:
                click.echo("Demo users (passwords shown only now; `tracker users reset-password NAME` sets new ones):")
            for name, role, password, token in created:
                click.echo(f"  {role:8} login {name} / password {password}   API token {token}")
        if no_jobs:
            click.echo("Scheduled jobs: off (--no-jobs).")
        elif not jobs_in_serve_allowed(services.config, workers):
            click.echo("Scheduled jobs: not run by serve on PostgreSQL or with --workers > 1; run `tracker scheduler`.")
        else:
            start_in_serve(services, stack, echo=click.echo)
        where = services.config.database if not services.config.is_postgres else "PostgreSQL"
        click.echo(f"Serving http://{host}:{port}/ (API at /api/v1, store: {where}). Ctrl+C stops.")
        if workers == 1:
            _serve_waitress(services, host, port, threads)
            return
    _serve_gunicorn(host, port, threads, workers)


def _check_port_free(host: str, port: int) -> None:
    """Exit with one line (status 2) when ``host:port`` cannot be bound: taken by another server, or not an
    address of this machine. The same options as the servers' own sockets (SO_REUSEADDR), so a port left in
    TIME_WAIT by a server just stopped is free."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise CliError(f"cannot serve on {host}:{port}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            hint = " (another server is running there? choose another with --port)" if e.errno == 98 else ""
            raise CliError(f"cannot serve on {host}:{port}: {e.strerror}{hint}") from None


def _stop_on_signals() -> None:
    """SIGTERM (systemd's stop) and SIGINT (Ctrl+C) end ``serve`` with exit code 0, whatever it is doing.

    They raise SystemExit(0) in the main thread: waitress takes it as its signal to close (it finishes the
    requests under way), and every ``with`` on the way out runs (the in-process jobs stop, the store closes).
    gunicorn's master replaces both handlers with its own once it runs (a graceful stop, exit 0).
    """
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


#: prctl(2) option: the signal this process gets when the thread that forked it ends (Linux).
PR_SET_PDEATHSIG = 1


def die_with_master(_arbiter: Any, worker: Any) -> None:
    """gunicorn's ``post_fork`` hook, in the worker just forked: SIGKILL it when its master dies.

    gunicorn's master stops its workers itself on SIGTERM/SIGINT. A master killed outright (SIGKILL, the OOM
    killer) cannot: its workers went on with their open connections for the graceful timeout (and a worker
    with a client stalled mid-request lived on after it), keeping the listening socket open meanwhile, so a
    restart failed with "Connection in use". The kernel's parent-death signal ends them
    at once (their in-flight requests are cut off: every write is atomic and carries its idempotency key, so
    a client's retry finds it). SIGKILL, not SIGTERM: a SIGTERM'd worker would finish its open connections,
    still holding the port. Outside Linux this does nothing.
    """
    import ctypes
    import os
    import signal

    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        worker.log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
        return
    if os.getppid() != worker.ppid:  # the master died before the request took effect
        os._exit(1)


def _serve_waitress(services: Services, host: str, port: int, threads: int) -> None:
    import waitress

    from web import create_app
    from web.limits import MAX_BODY

    app = create_app(services=services)
    services.follow()
    proxy = services.config.trusted_proxy
    trust: dict[str, Any] = {}
    if proxy:  # waitress itself takes the client's address and scheme from that peer's X-Forwarded-* only
        trust = {
            "trusted_proxy": proxy,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"},
        }
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="tracker",
        _quiet=True,
        clear_untrusted_proxy_headers=True,  # anyone else's X-Forwarded-* never reach the app
        max_request_body_size=MAX_BODY + 1,  # refused by Content-Length before a byte is buffered
        max_request_header_size=64 * 1024,
        connection_limit=500,  # idle or slow connections take no thread, only a socket each
        channel_timeout=30,  # a connection silent for this long is closed
        cleanup_interval=5,
        **trust,
    )


def _serve_gunicorn(host: str, port: int, threads: int, workers: int) -> None:
    """Several worker processes; each builds its own application after the fork (no preload)."""
    from gunicorn.app.base import BaseApplication

    proxy = load_config().trusted_proxy

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "preload_app": False,
                "accesslog": None,
                "graceful_timeout": 10,
                # X-Forwarded-Proto believed only from the trusted proxy (gunicorn trusts 127.0.0.1 by default);
                # web/limits.py takes the client's address from that proxy's X-Forwarded-For
                "forwarded_allow_ips": proxy or "",
                "limit_request_line": 8190,
                "limit_request_fields": 100,
                "limit_request_field_size": 8190,
                "timeout": 30,
                "keepalive": 5,
                "post_fork": die_with_master,  # workers never outlive a killed master (nor hold its port)
            }
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1: one fixed socket per user
                settings["control_socket_disable"] = True  # would be shared (and unlinked) by every server
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from web import create_app

            app = create_app()
            app.extensions["tracker"].follow()
            return app

    Server().run()


@main.group()
def db() -> None:
    """The store's tables."""


@db.command("init")
def db_init() -> None:
    """Create the tables (once per database; servers on PostgreSQL start with table creation off)."""
    from dataclasses import replace

    try:
        config = replace(load_config(), create_tables=True)
    except ConfigError as e:
        raise CliError(str(e)) from None
    with opened(config) as services:
        click.echo(f"tables ready; log head at {services.projection.position}")


# --- seed, users ----------------------------------------------------------------------------


@main.command()
def seed() -> None:
    """Load the county's partner list as events (a second run adds nothing)."""
    with opened() as services:
        try:
            written = services.load_seed()
        except (ValueError, DomainError) as e:
            raise CliError(str(e)) from None
        click.echo(f"seed: {written} events written" if written else "seed: already loaded, nothing written")


@main.group()
def users() -> None:
    """Manage users (kept apart from the log); every change is kept in the access log."""


def cli_actor() -> str:
    """Who changes users from the command line, as the access log names them: ``cli:<account>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no account name in the environment or the password database
        import os

        return f"cli:uid-{os.getuid()}"


@contextmanager
def user_change() -> Iterator[Services]:
    """The services for one change to a user; a refused change is one line naming the field, exit 1."""
    from application.users import UserError

    with opened() as services:
        try:
            yield services
        except UserError as e:
            raise CliError(str(e)) from None


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, help="officer, auditor, manager or admin")
@click.option("--email", default=None)
@click.option("--password", default=None)
def users_add(name: str, role: str, email: str | None, password: str | None) -> None:
    """Create a user; prints the API token alone on the last line."""
    with user_change() as services:
        token = services.users.add(name, role, email=email, password=password, actor=cli_actor())
        click.echo(f"created {role} {name}")
        click.echo(token)


@users.command("list")
def users_list() -> None:
    """Every user: name, role, enabled or disabled, password and API token set, live sessions, e-mail."""
    from application.users import session_limits

    with opened() as services:
        rows = services.users.describe(**session_limits(services.config))
    header = ("name", "role", "state", "password", "token", "sessions", "email")
    table = [header] + [
        (
            r["name"],
            r["role"],
            "disabled" if r["disabled"] else "enabled",
            "set" if r["has_password"] else "none",
            "active" if r["has_token"] else "revoked",
            str(r["sessions"]),
            r["email"] or "-",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@users.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """The user may no longer sign in; their sessions and API token end at once."""
    with user_change() as services:
        ended = services.users.disable(name, actor=cli_actor())
    click.echo(f"disabled {name}: API token revoked, {ended} session(s) ended")


@users.command("enable")
@click.argument("name")
def users_enable(name: str) -> None:
    """The user may sign in again (give them a new password or token: the old token stays revoked)."""
    with user_change() as services:
        services.users.enable(name, actor=cli_actor())
    click.echo(f"enabled {name} (the old API token stays revoked: `tracker users new-token {name}`)")


@users.command("set-role")
@click.argument("name")
@click.argument("role")
def users_set_role(name: str, role: str) -> None:
    """Give the user another role (officer, auditor, manager, admin); their sessions end."""
    with user_change() as services:
        ended = services.users.set_role(name, role, actor=cli_actor())
    click.echo(f"{name} is now {role}; {ended} session(s) ended")


@users.command("reset-password")
@click.argument("name")
@click.option("--password", default=None, help="The new password (default: a random one, printed once).")
def users_reset_password(name: str, password: str | None) -> None:
    """Set a new password; prints it alone on the last line. The user's sessions and API token end."""
    with user_change() as services:
        new = services.users.reset_password(name, actor=cli_actor(), password=password)
    click.echo(f"new password for {name}; sessions and API token ended (`tracker users new-token {name}`)")
    click.echo(new)


@users.command("new-token")
@click.argument("name")
def users_new_token(name: str) -> None:
    """Issue a new API token (the old one stops working); prints it alone on the last line."""
    with user_change() as services:
        token = services.users.new_token(name, actor=cli_actor())
    click.echo(f"new API token for {name}; the old one no longer works")
    click.echo(token)


@users.command("revoke-tokens")
@click.argument("name")
def users_revoke_tokens(name: str) -> None:
    """End the user's API token and every browser session at once."""
    with user_change() as services:
        ended = services.users.revoke_tokens(name, actor=cli_actor())
    click.echo(f"revoked the API token of {name}; {ended} session(s) ended")


# --- jobs ------------------------------------------------------------------------------------


@main.command("scan-inactivity")
@click.option(
    "--today", "today_text", default=None, help="Run as if today were YYYY-MM-DD (default: the office's today)."
)
@click.option("--dry-run", is_flag=True, help="Print what would be flagged; record and mail nothing.")
def scan_inactivity(today_text: str | None, dry_run: bool) -> None:
    """Run the inactivity job once, now, then send the mail outbox (--dry-run: only say what it would flag)."""
    from application import jobs

    with opened() as services:
        real_today = services.today()
        today = parse_day(today_text, "--today") or real_today
        if today > real_today:
            raise CliError(f"--today {today} is after today ({real_today}); the check cannot run in the future")
        if dry_run:
            would = jobs.would_flag(services, today)
            for flag in would:
                since = flag.get("last_activity_on") or flag.get("planned_for")
                click.echo(f"would flag {flag['kind']}: {flag['partner_name']} ({flag['partnership_id']}, {since})")
            if not would:
                click.echo(f"nothing to flag on {today}")
            click.echo("dry run: nothing recorded, nothing mailed")
            return
        scan = jobs.scan_inactivity(services, today)
        for flag in scan.flagged:
            click.echo(f"flagged {flag['kind']}: {flag['partner_name']} ({flag['partnership_id']})")
        if not scan.flagged:
            click.echo(f"nothing to flag on {today}")
        logged = not services.config.smtp_url
        if logged:  # the mails go to the log: to stderr here, so that the operator sees them
            _log_mail_to_stderr()
        sent = jobs.send_outbox(services)
        for mail in sent.mailed:
            verb = "mail logged, not sent (no TRACKER_SMTP_URL) to" if logged else "mailed"
            click.echo(f"{verb} {', '.join(mail['to'])}: {mail['partner_name']}")
        for aside in sent.set_aside:
            why = f"{aside['partner_name']!r} ({aside['reminder_id']}): {aside['error']}"
            click.echo(f"mail set aside (cannot be sent as it is): {why}", err=True)
        if sent.failed:
            click.echo(f"mail delayed (will retry): {sent.failed}", err=True)


def _log_mail_to_stderr() -> None:
    import logging

    mail_log = logging.getLogger("tracker.mail")
    if not mail_log.handlers:
        mail_log.addHandler(logging.StreamHandler(sys.stderr))
    mail_log.setLevel(logging.INFO)


@main.command()
def scheduler() -> None:
    """Run the scheduled jobs (inactivity scan 07:00, mail outbox every minute, digest 07:05) until stopped."""
    import logging

    from entrypoints.scheduler import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        config = load_config()
    except ConfigError as e:
        raise CliError(str(e)) from None
    code = run(config, echo=click.echo, warn=lambda line: click.echo(line, err=True))
    sys.exit(code)


# --- projections, audit, export, import --------------------------------------------------


@main.group()
def projections() -> None:
    """Read models."""


@projections.command("rebuild")
def projections_rebuild() -> None:
    """Throw the read models away and rebuild them from the log."""
    with opened(catch_up=False) as services:  # bringing views up to date first would be thrown away with them
        applied = services.projection.rebuild()
        click.echo(f"rebuilt the read models from {applied} events")


@main.group()
def audit() -> None:
    """Integrity checks for auditors."""


@audit.command("digest")
@click.option("--access", is_flag=True, help="The access log's head instead, as access:POSITION:HASH.")
def audit_digest(access: bool) -> None:
    """Print POSITION:HASH of the log's head (or access:POSITION:HASH of the access log's), to keep outside
    the database."""
    from application.access_log import format_digest
    from projections.queries import head

    with opened() as services:
        if access:
            click.echo(format_digest(services.users.access_log.head()))
            return
        h = head(services.db)
        click.echo(f"{h['position']}:{h['hash']}")


@audit.command("verify")
@click.option(
    "--digest",
    "digests",
    multiple=True,
    help="POSITION:HASH kept earlier: the log up to it must be unchanged (access:POSITION:HASH: the access log's).",
)
@click.option(
    "--file",
    "export_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Check a JSONL export instead.",
)
def audit_verify(digests: tuple[str, ...], export_file: str | None) -> None:
    """Check the hash chain and the read models, and the access log's chain and the users against it (or an
    export file: the partnership log only); exit 1 at the first bad position."""
    from application import access_log
    from projections.audit import parse_digest, verify_export

    kept = access_kept = None
    try:
        for digest in digests:
            if access_log.is_access_digest(digest):
                access_kept = access_log.parse_digest(digest)
            else:
                kept = parse_digest(digest)
    except ValueError as e:
        raise CliError(f"--digest: {e}") from None
    if export_file and access_kept:
        raise CliError("--digest: an export holds the partnership log only, not the access log")
    if export_file:
        path = Path(export_file)
        if not path.is_file():
            raise CliError(f"--file: {export_file} does not exist")
        with path.open(encoding="utf-8", errors="replace") as f:  # a bad byte fails its line's hash
            report = verify_export(f, kept)
    else:
        with opened(catch_up=False) as services:
            report = services.verify_log(kept)
            access = services.verify_access_log(access_kept)
        _print_report(report)
        _print_access_report(access)
        if not (report["ok"] and access["ok"]):
            sys.exit(1)
        return
    _print_report(report)
    if not report["ok"]:
        sys.exit(1)


def _print_access_report(report: dict[str, Any]) -> None:
    head = report["head"]
    if report["ok"]:
        click.echo(f"access log intact: {report['checked']} entries, head access:{head['position']}:{head['hash']}")
        return
    for number, problem in enumerate(report["problems"]):
        where = f" at position {problem['position']}" if problem["position"] is not None else ""
        lead = "access log BROKEN" if number == 0 else "  access log also"
        click.echo(f"{lead}{where}: {problem['kind']}: {problem['detail']}")


def _print_report(report: dict[str, Any]) -> None:
    head = report["head"]
    if report["ok"]:
        click.echo(f"intact: {report['checked']} entries, head {head['position']}:{head['hash']}")
        return
    first = report["problems"][0]
    click.echo(f"BROKEN at position {first['position']}: {first['kind']}: {first['detail']}")
    for problem in report["problems"][1:]:
        click.echo(f"  also at position {problem['position']}: {problem['kind']}: {problem['detail']}")


class Progress:
    """Progress of a long command on a terminal (stderr); silent when stderr is not a terminal."""

    def __init__(self, what: str, every: int = 1000) -> None:
        self.what, self.every, self.count = what, every, 0
        self.shown = sys.stderr.isatty()

    def step(self, n: int = 1) -> None:
        self.count += n
        if self.shown and self.count % self.every < n:
            sys.stderr.write(f"\r{self.what}: {self.count:,} entries")
            sys.stderr.flush()

    def stage(self, name: str, done: int, total: int) -> None:
        if self.shown:
            sys.stderr.write(f"\r{self.what}: {name} {done:,}/{total:,}\033[K")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write(f"\r{self.what}: {self.count:,} entries\033[K\n" if self.count else "\n")
            sys.stderr.flush()


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
def export(fmt: str) -> None:
    """Write the whole log to stdout (the same log always gives the same bytes)."""
    from application.export import UnreadableEntry, export_chunks

    out = sys.stdout.buffer
    progress = Progress("export")
    with opened(catch_up=False) as services:  # the export reads the stored events, not the views
        try:
            for chunk in export_chunks(services.tracker, fmt):
                out.write(chunk.encode("utf-8"))
                progress.step()
        except UnreadableEntry as e:  # a stored event that cannot be read: say where, in one line
            progress.done()
            raise CliError(str(e)) from None
        progress.done()


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def import_(file: str) -> None:
    """Append a JSONL export's events to an empty store (all or nothing)."""
    from application.transfer import ImportRefused, import_export

    path = Path(file)
    if not path.is_file():
        raise CliError(f"{file} does not exist")
    with opened() as services:
        progress = Progress("import")
        try:
            count = import_export(services, path, progress=progress.stage)
        except ImportRefused as e:
            raise CliError(str(e)) from None
        finally:
            progress.done()
        click.echo(f"imported {count} events; head {services.projection.position}")


@main.command()
@click.option("--as-of", "as_of_text", required=True, help="A year (YYYY) or a day (YYYY-MM-DD), not after today.")
@click.option("--known-at", "known_at_text", default=None, help="Only what was recorded by then (ISO date-time).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True, help="HTML or PDF."
)
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout.")
def report(as_of_text: str, known_at_text: str | None, lang: str, fmt: str, output: str | None) -> None:
    """Write the council report (partners by country, status, schools, exchanges, the year's activity)."""
    from application.report import ReportRefused, render_report, report_pdf, report_period

    known_at = parse_moment(known_at_text, "--known-at")
    with opened() as services:
        try:
            period = report_period(as_of_text, known_at, today=services.today(), tz=services.config.tz)
        except ReportRefused as e:
            option = "--as-of" if e.field == "as_of" else "--known-at"
            raise CliError(f"{option} {as_of_text if e.field == 'as_of' else known_at_text}: {e.message}") from None
        html = render_report(
            services.db,
            services.clock(),
            period=period,
            lang=lang,
            organisation=services.organisation(),
            tz=services.config.tz,
        )
    data = report_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    if output:
        Path(output).write_bytes(data)
        click.echo(f"report written to {output}", err=True)
    else:
        sys.stdout.buffer.write(data)


def parse_moment(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date-time (UTC when no offset is given)."""
    if value is None:
        return None
    try:
        return timeparse.parse_moment(value)
    except ValueError:
        raise CliError(f"{name} must be an ISO date-time such as 2026-11-26T12:00:00Z, not {value!r}") from None


if __name__ == "__main__":  # pragma: no cover
    main()
