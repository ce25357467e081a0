"""The production deployment: KPITRACK_ENV=production settings pass `check --deploy` with no warning, refuse to
start half-configured, and gunicorn (gunicorn.conf.py) serves the app with its security headers and WhiteNoise's
hashed, compressed static files. Each check runs in a fresh interpreter with its own environment and SQLite file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent

#: Every check here runs with SQLite files of its own (DATABASE_URL is cleared): once, in the SQLite pass.
pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs in the SQLite pass (its own SQLite files, not the test database)"
)
SECRET = "kpitrack-test-" + "s3cr3t-" * 8
#: Variables of the host that would change what is tested here.
CLEARED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "KPITRACK_ENV",
    "STATIC_MANIFEST",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "CSRF_TRUSTED_ORIGINS",
}


def production(tmp_path: Path, **extra: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name not in CLEARED}
    environment.update(
        KPITRACK_ENV="production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="kpitrack.example.lan,127.0.0.1",
        CSRF_TRUSTED_ORIGINS="https://kpitrack.example.lan",
        SQLITE_PATH=str(tmp_path / "prod.sqlite3"),
        STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SETTINGS_MODULE="kpitrack.settings",
    )
    environment.update(extra)
    return environment


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=300, check=False
    )


def loaded(env: dict[str, str], *names: str) -> dict[str, Any]:
    code = f"import json, kpitrack.settings as s; print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    result = run(env, "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_under_the_production_settings(tmp_path):
    result = run(production(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_for_the_demo_settings(tmp_path):
    """The check is not vacuous: the development defaults (no HTTPS, no HSTS) do warn."""
    env = production(tmp_path, KPITRACK_ENV="development", DEBUG="false")
    result = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_production_turns_on_https_hsts_secure_cookies_and_manifest_static_files(tmp_path):
    settings = loaded(
        production(tmp_path),
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
        "STORAGES",
        "SESSION_ENGINE",
    )
    assert settings["DEBUG"] is False
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] == 31536000 and settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_PROXY_SSL_HEADER"] is None  # only when asked for: SECURE_PROXY_SSL_HEADER=true
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["https://kpitrack.example.lan"]
    assert settings["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert settings["SESSION_ENGINE"] == "kpitrack.sessions.db"


def test_each_production_default_can_be_turned_off_by_its_variable(tmp_path):
    env = production(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0", SECURE_COOKIES="false")
    settings = loaded(env, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE")
    assert settings == {"SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0, "SESSION_COOKIE_SECURE": False}


def test_the_demo_runs_with_nothing_set(tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    settings = loaded(env, "DEBUG", "SECURE_SSL_REDIRECT", "STORAGES")
    assert settings["DEBUG"] is True and settings["SECURE_SSL_REDIRECT"] is False
    assert settings["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedStaticFilesStorage"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": ""}, "ImproperlyConfigured: ALLOWED_HOSTS is not set"),
        ({"SECRET_KEY": ""}, "ImproperlyConfigured: SECRET_KEY is not set"),
        ({"KPITRACK_ENV": "prod"}, "ImproperlyConfigured: KPITRACK_ENV must be development or production, not 'prod'"),
        ({"SESSION_IDLE_MINUTES": "0"}, "ImproperlyConfigured: SESSION_IDLE_MINUTES must be 1 or more, not 0"),
        ({"AXES_FAILURE_LIMIT": "0"}, "ImproperlyConfigured: AXES_FAILURE_LIMIT must be 1 or more, not 0"),
        ({"AXES_LOCK_BY": "everyone"}, "ImproperlyConfigured: AXES_LOCK_BY must be user_and_ip, user or ip"),
    ],
)
def test_production_refuses_to_start_half_configured(tmp_path, env, message):
    result = run(production(tmp_path, **env), "-c", "import kpitrack.settings")
    assert result.returncode != 0
    assert message in result.stderr.strip().splitlines()[-1]


def test_the_session_timeout_and_lockout_come_from_the_environment(tmp_path):
    env = production(tmp_path, SESSION_IDLE_MINUTES="15", AXES_FAILURE_LIMIT="10", AXES_COOLOFF_MINUTES="30")
    settings = loaded(env, "SESSION_COOKIE_AGE", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES")
    assert settings == {"SESSION_COOKIE_AGE": 900, "AXES_FAILURE_LIMIT": 10, "AXES_COOLOFF_MINUTES": 30}


# -- gunicorn ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPErrorProcessor):
    def http_response(self, request, response):  # type: ignore[no-untyped-def]
        return response


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Host": "kpitrack.example.lan", **headers})
    with opener.open(request, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


@pytest.fixture
def gunicorn(tmp_path, fresh_sqlite):
    """gunicorn with gunicorn.conf.py and the production settings behind a (pretend) TLS proxy, on a migrated SQLite
    file of its own, after ``collectstatic`` with the production settings (the manifest and compressed files)."""
    env = production(
        tmp_path,
        SECURE_PROXY_SSL_HEADER="true",
        GUNICORN_WORKERS="1",
        GUNICORN_ACCESS_LOG="",
        SQLITE_PATH=str(fresh_sqlite),
    )
    result = run(env, "manage.py", "collectstatic", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen([str(gunicorn_bin)], env=env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(base + "/accounts/login/")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text())
                time.sleep(0.3)
        yield base, tmp_path / "static"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_gunicorn_serves_the_app_with_its_security_headers_and_static_files(gunicorn):
    base, static_root = gunicorn
    status, headers, body = fetch(base + "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    assert status == 200 and "ログイン".encode() in body
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "no-store" in headers["cache-control"]

    status, headers, _body = fetch(base + "/accounts/login/")  # plain http from the proxy: sent to https
    assert status == 301 and headers["location"] == "https://kpitrack.example.lan/accounts/login/"

    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["vendor/plotly/plotly.min.js"]
    assert hashed != "vendor/plotly/plotly.min.js"
    status, headers, body = fetch(
        f"{base}/static/{hashed}", **{"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"]


def test_sessions_are_cached_only_in_a_cache_every_app_server_shares(tmp_path):
    """cached_db with a per-process cache would keep a session alive on one server after a logout on another."""
    shared = loaded(production(tmp_path, CACHE_BACKEND="django.core.cache.backends.redis.RedisCache"), "SESSION_ENGINE")
    assert shared["SESSION_ENGINE"] == "kpitrack.sessions.cached_db"
    for backend in (
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ):
        local = loaded(production(tmp_path, CACHE_BACKEND=backend), "SESSION_ENGINE")
        assert local["SESSION_ENGINE"] == "kpitrack.sessions.db"


def test_collectstatic_takes_only_plotly_min_js_of_the_plotly_package(tmp_path, settings):
    """plotly.js is served locally; the package's 31 MB of datasets and bundles are not collected."""
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert finders.find("vendor/plotly/plotly.min.js")
    assert not finders.find("vendor/plotly/datasets/iris.csv.gz")
    call_command("collectstatic", "--no-input", "-v", "0")
    root = tmp_path / "static"
    assert sorted(p.relative_to(root).as_posix() for p in (root / "vendor").rglob("*")) == [
        "vendor/plotly",
        "vendor/plotly/plotly.min.js",
    ]


def test_gunicorn_freezes_what_the_master_loaded_before_forking_a_worker():
    import gc
    import runpy

    hooks = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    assert hooks["preload_app"] is True  # the master holds the app: freezing it is what spares the workers
    gc.unfreeze()
    try:
        hooks["pre_fork"](None, None)
        assert gc.get_freeze_count() > 10_000  # Django and kpitrack, not a handful of objects
    finally:
        gc.unfreeze()


def test_postgresql_prepares_repeated_queries_unless_turned_off(tmp_path):
    url = "postgres://kpitrack:secret@db.example.lan:5432/kpitrack"
    options = loaded(production(tmp_path, DATABASE_URL=url), "DATABASES")["DATABASES"]["default"]["OPTIONS"]
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 5
    off = production(tmp_path, DATABASE_URL=url, DB_PREPARED_STATEMENTS="false")  # behind PgBouncer's transaction mode
    options = loaded(off, "DATABASES")["DATABASES"]["default"].get("OPTIONS", {})
    assert "server_side_binding" not in options and "prepare_threshold" not in options
    sqlite = loaded(production(tmp_path), "DATABASES")["DATABASES"]["default"]
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3" and "server_side_binding" not in sqlite["OPTIONS"]
