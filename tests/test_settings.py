"""Settings that fail safe: kpitrack/settings.py imported in a fresh interpreter with a given environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
)
READ = (
    "DEBUG",
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
)
PRODUCTION_KEY = "x" * 60
DEVELOPMENT_KEY = "kpitrack-development-key-not-for-production"


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    environment.update(env)
    code = f"import json, kpitrack.settings as s; print(json.dumps({{n: getattr(s, n) for n in {READ!r}}}))"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=BASE_DIR, capture_output=True, text=True, timeout=120
    )


def load_settings(**env: str) -> dict[str, Any]:
    result = run_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refusal(**env: str) -> str:
    """The last line of the traceback when the settings refuse to load."""
    result = run_settings(**env)
    assert result.returncode != 0, result.stdout
    return result.stderr.strip().splitlines()[-1]


# -- SECRET_KEY ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   ", DEVELOPMENT_KEY])
def test_it_refuses_to_start_with_debug_off_and_no_secret_key(key):
    env = {"DEBUG": "false"} if key is None else {"DEBUG": "false", "SECRET_KEY": key}
    line = refusal(**env)
    assert line.startswith("django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set")


def test_it_starts_with_debug_off_and_a_secret_key():
    loaded = load_settings(DEBUG="false", SECRET_KEY=PRODUCTION_KEY)
    assert (loaded["DEBUG"], loaded["SECRET_KEY"]) == (False, PRODUCTION_KEY)


@pytest.mark.parametrize("env", [{}, {"DEBUG": "true"}, {"DEBUG": "true", "SECRET_KEY": ""}])
def test_it_allows_the_development_key_in_debug_mode(env):
    loaded = load_settings(**env)
    assert (loaded["DEBUG"], loaded["SECRET_KEY"]) == (True, DEVELOPMENT_KEY)


# -- HTTPS ----------------------------------------------------------------------------------------------


def test_it_leaves_https_settings_off_by_default():
    loaded = load_settings(DEBUG="false", SECRET_KEY=PRODUCTION_KEY)
    assert loaded["SECURE_SSL_REDIRECT"] is False
    assert loaded["SECURE_HSTS_SECONDS"] == 0
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert loaded["SECURE_HSTS_PRELOAD"] is False
    assert loaded["SECURE_PROXY_SSL_HEADER"] is None


def test_it_reads_hsts_the_ssl_redirect_and_the_proxy_header_from_the_environment():
    loaded = load_settings(
        DEBUG="false",
        SECRET_KEY=PRODUCTION_KEY,
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="yes",
        SECURE_HSTS_PRELOAD="1",
        SECURE_PROXY_SSL_HEADER="on",
    )
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert loaded["SECURE_HSTS_PRELOAD"] is True
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECURE_HSTS_SECONDS": "one year"}, "ValueError: SECURE_HSTS_SECONDS must be a whole number, not 'one year'"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "ImproperlyConfigured: SECURE_HSTS_SECONDS must be 0 or more, not -1"),
        ({"SECURE_SSL_REDIRECT": "maybe"}, "ValueError: SECURE_SSL_REDIRECT must be true or false, not 'maybe'"),
        (
            {"SECURE_PROXY_SSL_HEADER": "https"},
            "ValueError: SECURE_PROXY_SSL_HEADER must be true or false, not 'https'",
        ),
    ],
)
def test_it_refuses_a_malformed_https_setting_naming_the_variable(env, message):
    assert refusal(DEBUG="false", SECRET_KEY=PRODUCTION_KEY, **env).endswith(message)


def test_it_passes_djangos_deployment_checks_when_configured_for_https(tmp_path):
    environment = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    environment.update(
        DEBUG="false",
        SECRET_KEY="kpitrack-" + "k3y-" * 15,
        SECURE_COOKIES="true",
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
        SQLITE_PATH=str(tmp_path / "check.sqlite3"),
        DJANGO_SETTINGS_MODULE="kpitrack.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


# -- database connections (issue 12) -------------------------------------------------------------------


def database_settings(**env: str) -> dict[str, Any]:
    environment = {name: value for name, value in os.environ.items() if name not in (*VARIABLES, "DB_CONN_MAX_AGE")}
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    code = "import json, kpitrack.settings as s; print(json.dumps(s.DATABASES['default'], default=str))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("url", ["", "postgres://kpitrack@localhost:5432/kpitrack"])
def test_it_keeps_database_connections_with_a_health_check_on_both_databases(url):
    database = database_settings(**({"DATABASE_URL": url} if url else {}))
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


def test_it_reads_how_long_a_connection_is_kept_from_the_environment():
    assert database_settings(DB_CONN_MAX_AGE="0")["CONN_MAX_AGE"] == 0
    result = subprocess.run(
        [sys.executable, "-c", "import kpitrack.settings"],
        env={**os.environ, "DB_CONN_MAX_AGE": "a minute"},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "DB_CONN_MAX_AGE must be a whole number" in result.stderr
