"""Django settings for envdash, read from environment variables (see README, "Settings")."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import platformdirs

from dashboard.envvars import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_optional_int,
    env_paths,
    env_str,
    private_file,
    secret_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
#: Pages and static files: at the top of the source tree (templates/, static/), inside the
#: package once installed from the wheel (dashboard/templates, dashboard/static: see
#: setup.py), where APP_DIRS and the AppDirectoriesFinder find them. Each is searched in
#: one place only: an installed envdash never looks beside site-packages.
_SOURCE_TREE = not (Path(__file__).resolve().parent / "templates").is_dir()

DATA_DIR = Path(
    env_str("ENVDASH_DATA_DIR", platformdirs.user_data_dir("envdash", appauthor=False))
).expanduser()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)

#: Directories scanned for environments; empty means envcore's defaults (home + known homes).
SCAN_ROOTS = env_paths("ENVDASH_SCAN_ROOTS")
HOST = env_str("ENVDASH_HOST", "127.0.0.1")
PORT = env_int("ENVDASH_PORT", 8000, low=0, high=65535)
#: A fixed login token for scripted use; otherwise one is generated into DATA_DIR.
FIXED_TOKEN = env_str("ENVDASH_TOKEN", "")
INSTALLER = env_choice("ENVDASH_INSTALLER", "auto", frozenset({"auto", "pip", "uv"}))
JOB_CONCURRENCY = env_int("ENVDASH_JOB_CONCURRENCY", 2, low=1, high=32)
JOB_TIMEOUT = env_int("ENVDASH_JOB_TIMEOUT", 1800, low=10, high=86400)
MACHINE_NAME = env_str("ENVDASH_MACHINE", socket.gethostname())
TEAM_URL = env_str("ENVDASH_TEAM_URL", "")
TEAM_TOKEN = env_str("ENVDASH_TEAM_TOKEN", "")
TEAM_STALE_DAYS = env_int("ENVDASH_TEAM_STALE_DAYS", 7, low=1, high=3650)
INDEX_OFFLINE = env_bool("ENVDASH_OFFLINE", False)
#: Overrides pip's configured index for update checks (pip's own settings otherwise).
INDEX_URL = env_str("ENVDASH_INDEX_URL", "")
#: Wheel directories or URLs for jobs (whitespace-separated, like PIP_FIND_LINKS), and
#: whether jobs skip the index: together they make jobs install offline from a wheelhouse.
INDEX_FIND_LINKS = tuple(env_str("ENVDASH_FIND_LINKS", "").split())
INDEX_NO_INDEX = env_bool("ENVDASH_NO_INDEX", False)
INDEX_TTL = env_int("ENVDASH_INDEX_TTL", 600, low=0, high=7 * 86400)
#: Following the disk (dashboard.watcher): the OS's notifications, or polling; how often
#: polling looks; how many OS watches at most (unset: as many as the OS allows); how
#: often the whole tree is rescanned for new and vanished environments (0: never).
WATCH_MODE = env_choice("ENVDASH_WATCH", "auto", frozenset({"auto", "poll", "off"}))
POLL_INTERVAL = env_int("ENVDASH_POLL_INTERVAL", 2, low=1, high=3600)
WATCH_LIMIT = env_optional_int("ENVDASH_WATCH_LIMIT", low=0, high=10_000_000)
RESCAN_INTERVAL = env_int("ENVDASH_RESCAN_INTERVAL", 300, low=0, high=7 * 86400)

DEBUG = env_bool("ENVDASH_DEBUG", False)
SECRET_KEY_FILE = DATA_DIR / "secret_key"

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"] + [
    host.strip() for host in env_str("ENVDASH_ALLOWED_HOSTS", "").split(",") if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "dashboard",
    "dashboard.team",
    "dashboard.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "dashboard.auth.LoginRequiredMiddleware",
    "dashboard.live.RevisionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dashboard.errors.NotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"] if _SOURCE_TREE else [],
        "APP_DIRS": True,
        "OPTIONS": {
            # `visible` (control and bidi characters shown) on every page, no {% load %}.
            "builtins": ["dashboard.templatetags.envdash"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "dashboard.liveness.worker_status",
            ],
        },
    }
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", ""), sqlite_default=DATA_DIR / "envdash.sqlite3"
    )
}
if str(DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
    # The database holds session keys: another local user who can read it can drive the
    # dashboard. SQLite gives its -wal and -shm files the main file's mode.
    private_file(Path(str(DATABASES["default"]["NAME"])))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        # Any queue name: each machine's jobs and scans go to a queue named after it.
        "QUEUES": [],
    }
}

#: Sessions in the database: logout and a new token must be able to end every session,
#: which a signed cookie (valid until it expires, wherever it was copied) cannot do.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
#: Messages ride in the session: a cookie of their own would be shared by every port.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
#: Cookies are shared by every port of a host: the names carry the port (`serve` renames
#: them after the effective port when it is given --port, or 0).
SESSION_COOKIE_NAME = f"envdash_session_{PORT}"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_NAME = f"envdash_csrftoken_{PORT}"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"] if _SOURCE_TREE else []
STATIC_ROOT = DATA_DIR / "static"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "envdash": {"handlers": ["console"], "level": os.environ.get("ENVDASH_LOG_LEVEL", "INFO")},
        # A server error must leave its traceback in the server's output.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django_tasks": {"handlers": ["console"], "level": "WARNING"},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}


#: A per-installation key kept beside the database.
SECRET_KEY = secret_file(SECRET_KEY_FILE, 50)
