"""kpitrack settings: one module, every value from the environment, SQLite with nothing set."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default).strip()
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


#: "production" turns on the safe defaults of a real deployment (README: Deployment): DEBUG off, HTTPS redirect,
#: HSTS for a year, secure cookies, compressed manifest static files, and ALLOWED_HOSTS must be given. Each one can
#: still be set on its own by its variable. Anything else ("development", the default) is the demo on SQLite.
KPITRACK_ENV = os.getenv("KPITRACK_ENV", "development").strip().lower()
if KPITRACK_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"KPITRACK_ENV must be development or production, not {KPITRACK_ENV!r}")
PRODUCTION = KPITRACK_ENV == "production"

DEBUG = envbool("DEBUG", "False" if PRODUCTION else "True")
DEVELOPMENT_SECRET_KEY = "kpitrack-development-key-not-for-production"
SECRET_KEY = os.getenv("SECRET_KEY", "").strip() or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG off kpitrack refuses to start on the development key. "
        "Set SECRET_KEY to a long random value kept secret, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
if PRODUCTION and not envlist("ALLOWED_HOSTS", ""):
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set: with KPITRACK_ENV=production name the host names the site is reached by, "
        "comma-separated, e.g. ALLOWED_HOSTS=kpitrack.example.lan."
    )
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "simple_history",
    "axes",
    "csp",
    "kpitrack",
    "branches",
    "plans",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who made a change, for every history row written during a request (admin inlines included).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response but a 304 (CONTENT_SECURITY_POLICY below).
    "kpitrack.middleware.ContentSecurityPolicyMiddleware",
    # Cache-Control: private, no-store on signed-in pages and exports; the idle session timeout.
    "kpitrack.middleware.PrivatePagesMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kpitrack.urls"
WSGI_APPLICATION = "kpitrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Each app process keeps its database connection for DB_CONN_MAX_AGE seconds instead of opening one per request
# (on SQLite that also keeps its page cache warm: a new connection per request cost more than a dashboard's
# queries). With DB_CONN_HEALTH_CHECKS a connection that broke meanwhile (the database restarted) is checked and
# replaced at the start of the next request (one `SELECT 1` per request on PostgreSQL), so the request does not fail.
DB_CONN_MAX_AGE = envint("DB_CONN_MAX_AGE", "60")
DB_CONN_HEALTH_CHECKS = envbool("DB_CONN_HEALTH_CHECKS", "true")
if os.getenv("DATABASE_URL"):
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=DB_CONN_HEALTH_CHECKS
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and envbool("DB_PREPARED_STATEMENTS", "true"):
        # Parameters bound by the server, so that psycopg prepares a query run a fifth time on a connection: the
        # queries every page runs (session, user, data versions, a plan's stamps) are then parsed and planned
        # once per connection, not once per request. false behind a pooler in transaction mode (PgBouncer
        # without max_prepared_statements).
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.getenv("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": DB_CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": DB_CONN_HEALTH_CHECKS,
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                # Every write transaction takes the write lock when it begins and waits up to `timeout` seconds
                # for it: two concurrent saves queue up (the later one sees the earlier one's version and gets
                # the conflict message) instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": int(os.getenv("SQLITE_TIMEOUT", "20")),
            },
            # A file, not the in-memory default, so concurrent tests use real SQLite locking.
            "TEST": {"NAME": os.getenv("SQLITE_TEST_PATH", str(BASE_DIR / "db.sqlite3-test"))},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The dashboards cache rendered fragments keyed by the data versions (plans.versions): per process by default,
# shared when CACHE_BACKEND/CACHE_LOCATION name e.g. django.core.cache.backends.redis.RedisCache / redis://….
_cache_backend = os.getenv("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache").strip()
CACHES = {
    "default": {
        "BACKEND": _cache_backend,
        "LOCATION": os.getenv("CACHE_LOCATION", "kpitrack"),
        **({"OPTIONS": {"MAX_ENTRIES": envint("CACHE_MAX_ENTRIES", "5000")}} if "locmem" in _cache_backend else {}),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out user or address before the password is even checked. Then Django's
# ModelBackend, which reads the user's membership with the user (one query per request instead of two).
AUTHENTICATION_BACKENDS = [
    "kpitrack.auth.LockoutBackend",
    "kpitrack.auth.MembershipBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.getenv("LANGUAGE_CODE", "ja")
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# plotly.js comes from the plotly package itself: served from here, never from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "kpitrack.staticfiles.PlotlyFinder",  # vendor/plotly/plotly.min.js from the plotly package, nothing else of it
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production: hashed names (cached for ever by browsers) and gzip/brotli copies, made by collectstatic on each
    # app server. The manifest storage needs that collectstatic run, so the demo and the tests keep the plain one.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("STATIC_MANIFEST", "True" if PRODUCTION else "False")
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

# Sessions live in the database, so any app server behind the load balancer can serve any request. With a cache
# shared by every app server (CACHE_BACKEND Redis / Memcached / database) they are also kept in that cache
# (cached_db: each page reads the session from the cache, a write goes to both), which spares one query per page.
# With a per-process cache (locmem, the default) they are NOT: a logout or an ended session on one server would
# live on in another server's copy, so every page reads the session from the database. kpitrack.sessions are
# Django's stores with that read written in SQL (no ORM query building on every page).
_PROCESS_CACHES = ("locmem", "dummy", "filebased")
SESSION_ENGINE = (
    "kpitrack.sessions.db" if any(kind in _cache_backend for kind in _PROCESS_CACHES) else "kpitrack.sessions.cached_db"
)
# Idle timeout: a session unused for SESSION_IDLE_MINUTES ends (the next page asks to log in again). Each request
# of a signed-in user pushes the end back; to spare a database write on every page the push is written at most
# once every SESSION_REFRESH_SECONDS (kpitrack/middleware.py), so the timeout is exact to within that.
SESSION_IDLE_MINUTES = envint("SESSION_IDLE_MINUTES", "60")
if SESSION_IDLE_MINUTES < 1:
    raise ImproperlyConfigured(f"SESSION_IDLE_MINUTES must be 1 or more, not {SESSION_IDLE_MINUTES}")
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_REFRESH_SECONDS = min(envint("SESSION_REFRESH_SECONDS", "60"), SESSION_COOKIE_AGE)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "True" if PRODUCTION else "False")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS: off by default so that the demo runs on http://127.0.0.1; on with KPITRACK_ENV=production (README:
# Deployment), each one can be set on its own.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True" if PRODUCTION else "False")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0")
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(f"SECURE_HSTS_SECONDS must be 0 or more, not {SECURE_HSTS_SECONDS}")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True" if PRODUCTION else "False")
# The preload flag only says the site consents to browsers' preload lists; nothing is submitted by it.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "True" if PRODUCTION else "False")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients' requests.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("SECURE_PROXY_SSL_HEADER", "False") else None

# -- Login throttling (django-axes) -----------------------------------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords in a row the login is refused for AXES_COOLOFF_MINUTES, even with the
# right password, on the site's login and the admin's alike; every further try during the lockout starts the
# cool-off again. A successful login clears the count. AXES_LOCK_BY says what is locked: "user_and_ip" (the
# default: one user name from one address, so a colleague behind the same proxy is not locked out), "user" (the user
# name from anywhere) or "ip" (every name from one address). `python manage.py axes_reset` lifts every lockout.
AXES_ENABLED = envbool("AXES_ENABLED", "True")
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured(f"AXES_FAILURE_LIMIT must be 1 or more, not {AXES_FAILURE_LIMIT}")
AXES_COOLOFF_MINUTES = envint("AXES_COOLOFF_MINUTES", "15")
if AXES_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured(f"AXES_COOLOFF_MINUTES must be 1 or more, not {AXES_COOLOFF_MINUTES}")
AXES_COOLOFF_TIME = datetime.timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCK_BY = os.getenv("AXES_LOCK_BY", "user_and_ip").strip()
_axes_parameters: dict[str, list[Any]] = {
    "user_and_ip": [["username", "ip_address"]],
    "user": ["username"],
    "ip": ["ip_address"],
}
if AXES_LOCK_BY not in _axes_parameters:
    raise ImproperlyConfigured(f"AXES_LOCK_BY must be user_and_ip, user or ip, not {AXES_LOCK_BY!r}")
AXES_LOCKOUT_PARAMETERS = _axes_parameters[AXES_LOCK_BY]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kpitrack.auth.lockout_response"  # the Japanese page: templates/registration/locked_out.html
AXES_HTTP_RESPONSE_CODE = 429
# Behind a load balancer every request comes from its address: count the client's from X-Forwarded-For, set by
# the proxy (PROXY_COUNT = how many proxies stand in front of the app servers; 0 = none, use REMOTE_ADDR).
PROXY_COUNT = envint("PROXY_COUNT", "0")
if PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# -- Content-Security-Policy (django-csp 4) --------------------------------------------------------------------
# Every script is a file served by this site (plotly.js included: no CDN, no inline script, no on*= handler; a test
# scans the templates). style-src needs 'unsafe-inline' for one reason only: plotly.js draws its charts by adding
# a <style> element with its rules to the page at run time; with style-src 'self' alone Chromium blocks it ("Applying
# inline style violates ... style-src") and the modebar falls out of place over the chart (checked by
# tests/e2e/test_csp.py). Inline styles cannot run script, so scripts stay locked to 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
    # Every reminder e-mail sent is logged (who, which months, to whom).
    "loggers": {"plans.reminders": {"level": "INFO"}},
}

# E-mail (督促メール). The console backend prints messages; "file" writes them to EMAIL_FILE_PATH; "smtp" sends
# through EMAIL_HOST. A full dotted backend path is accepted too (README: Month workflow).
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = os.getenv("EMAIL_BACKEND", "console").strip()
EMAIL_BACKEND = EMAIL_BACKENDS.get(_email_backend, _email_backend)
EMAIL_FILE_PATH = os.getenv("EMAIL_FILE_PATH", str(BASE_DIR / "sent_emails"))
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "False")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "False")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on: choose one.")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "10")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "kpitrack@localhost")
# Where the links in e-mails sent by `manage.py send_report_reminders` point (the page's own host is used in the
# browser).
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")

# A month's report is due on this day of the following month (the 10th by default); a shorter month's last day
# when it has fewer days.
REPORT_DEADLINE_DAY = envint("REPORT_DEADLINE_DAY", "10")
if not 1 <= REPORT_DEADLINE_DAY <= 31:
    raise ImproperlyConfigured(f"REPORT_DEADLINE_DAY must be a day of the month (1–31), not {REPORT_DEADLINE_DAY}")

# The largest Excel workbook (bytes) `import_workbook` and the upload page accept (10 MB by default; a national
# year's workbook is about 150 KB).
WORKBOOK_IMPORT_MAX_BYTES = envint("WORKBOOK_IMPORT_MAX_BYTES", str(10 * 1024 * 1024))
if WORKBOOK_IMPORT_MAX_BYTES < 1:
    raise ImproperlyConfigured(f"WORKBOOK_IMPORT_MAX_BYTES must be a positive number, not {WORKBOOK_IMPORT_MAX_BYTES}")
