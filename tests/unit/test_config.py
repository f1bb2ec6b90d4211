"""Configuration from TRACKER_* variables: the contract's defaults, refusals by name, the store it selects."""

from __future__ import annotations

import pytest

from application.config import Config, ConfigError, load_config


def test_defaults_are_the_contracts():
    """With no variables set, every setting has the contract's default."""
    config = load_config({})
    assert config.database == "events.db"
    assert config.secret_key is None
    assert config.inactivity_days == 365
    assert config.smtp_url is None
    assert config.mail_from == "tracker@localhost"
    assert config.timezone == "Europe/Warsaw"
    assert not config.is_postgres


def test_unrelated_variables_are_ignored():
    """Variables that are not the tracker's change nothing."""
    assert load_config({"HOME": "/root", "DATABASE_URL": "postgresql://x/y"}) == load_config({})


def test_every_variable_is_read():
    """Each TRACKER_* variable sets its setting."""
    config = load_config(
        {
            "TRACKER_DATABASE": "/srv/tracker/events.db",
            "TRACKER_SECRET_KEY": "s3cret",
            "TRACKER_INACTIVITY_DAYS": "180",
            "TRACKER_SMTP_URL": "smtp://127.0.0.1:8025",
            "TRACKER_MAIL_FROM": "wspolpraca@piaseczno.example",
            "TRACKER_TIMEZONE": "Europe/Rome",
        }
    )
    assert (
        config.database,
        config.secret_key,
        config.inactivity_days,
        config.smtp_url,
        config.mail_from,
        config.timezone,
    ) == (
        "/srv/tracker/events.db",
        "s3cret",
        180,
        "smtp://127.0.0.1:8025",
        "wspolpraca@piaseczno.example",
        "Europe/Rome",
    )


@pytest.mark.parametrize("url", ["smtp://127.0.0.1:8025", "smtps://mailer:pw@mail.example.org:465", ""])
def test_good_smtp_urls(url):
    """smtp:// and smtps:// URLs are accepted; an empty value means unset (mail is logged)."""
    assert load_config({"TRACKER_SMTP_URL": url}).smtp_url == (url or None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKER_INACTIVITY_DAYS", "abc"),
        ("TRACKER_INACTIVITY_DAYS", "1.5"),
        ("TRACKER_INACTIVITY_DAYS", "0"),
        ("TRACKER_INACTIVITY_DAYS", "-30"),
        ("TRACKER_INACTIVITY_DAYS", "365 days"),
        ("TRACKER_TIMEZONE", "Mars/Olympus_Mons"),
        ("TRACKER_TIMEZONE", "Europe/Warszawa"),
        ("TRACKER_TIMEZONE", "../../etc/passwd"),
        ("TRACKER_SMTP_URL", "http://mail.example.org"),
        ("TRACKER_SMTP_URL", "127.0.0.1:25"),
        ("TRACKER_SMTP_URL", "mail.example.org"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable, value):
    """A value the tracker cannot use raises ConfigError whose message names the variable."""
    with pytest.raises(ConfigError) as err:
        load_config({variable: value})
    assert variable in str(err.value)


def test_config_error_is_a_value_error():
    """ConfigError can be caught as a ValueError."""
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("days", ["1", "30", "365", "3650"])
def test_whole_numbers_of_days(days):
    """A positive whole number of days is accepted."""
    assert load_config({"TRACKER_INACTIVITY_DAYS": days}).inactivity_days == int(days)


# --- the store the database setting selects ------------------------------------------------------


@pytest.mark.parametrize("path", ["events.db", "/var/lib/tracker/events.db", "data/county events.db"])
def test_a_file_path_selects_sqlite(path):
    """A file path maps to eventsourcing.sqlite with that file as the database."""
    config = load_config({"TRACKER_DATABASE": path})
    env = config.eventsourcing_env()
    assert not config.is_postgres
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == path
    assert not any(key.startswith("POSTGRES_") for key in env)


def test_a_postgresql_url_maps_to_the_postgres_keys():
    """User, password (URL-decoded), host, port and database name go to the library's POSTGRES_* keys."""
    config = load_config({"TRACKER_DATABASE": "postgresql://tracker:p%40ss%2Fw0rd@db.example.org:5433/county"})
    env = config.eventsourcing_env()
    assert config.is_postgres
    assert env["PERSISTENCE_MODULE"] == "infrastructure.outage:PostgresGuardedFactory"
    assert (
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
        env["POSTGRES_HOST"],
        env["POSTGRES_PORT"],
        env["POSTGRES_DBNAME"],
    ) == ("tracker", "p@ss/w0rd", "db.example.org", "5433", "county")
    assert "POSTGRES_SCHEMA" not in env
    assert not any(key.startswith("SQLITE_") for key in env)


def test_a_postgresql_url_without_a_port_uses_5432():
    """The port defaults to PostgreSQL's 5432."""
    env = load_config({"TRACKER_DATABASE": "postgresql://tracker:pw@localhost/county"}).eventsourcing_env()
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("localhost", "5432", "county")


def test_schema_query_parameter_maps_to_postgres_schema():
    """?schema=NAME selects the PostgreSQL schema."""
    env = load_config(
        {"TRACKER_DATABASE": "postgresql://tracker:pw@127.0.0.1:5432/county?schema=tracker_test"}
    ).eventsourcing_env()
    assert env["POSTGRES_SCHEMA"] == "tracker_test"
    assert env["POSTGRES_DBNAME"] == "county"


def test_postgres_scheme_alias():
    """postgres:// is taken as PostgreSQL too."""
    env = load_config({"TRACKER_DATABASE": "postgres://u:p@h:5432/d"}).eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "infrastructure.outage:PostgresGuardedFactory"


@pytest.mark.parametrize(("create_tables", "flag"), [(True, "y"), (False, "n")])
def test_table_creation_can_be_turned_off(create_tables, flag):
    """Workers of a shared database start with CREATE_TABLE off."""
    assert Config(database="events.db", create_tables=create_tables).eventsourcing_env()["CREATE_TABLE"] == flag
