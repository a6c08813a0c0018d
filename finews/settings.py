"""
Settings for finews, read from the environment.

Every value has a safe default for local development except SECRET_KEY and SITE_URL, which
production (DEBUG off) must supply. See README.md for the variables; `bin/finews` supplies them
for a local checkout.
"""

import base64
import datetime
import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from articles.validators import CHART_IMAGE_HOSTS

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name, default):
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_origin(name, default=""):
    """An http(s) origin such as `https://news.example.com`: no path, no trailing slash."""
    value = os.environ.get(name, default).rstrip("/")
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query):
        raise ImproperlyConfigured(f"{name} must be http(s)://host[:port] with no path, not {value!r}")
    return value


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (bin/finews sets one up for a checkout)")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The site's public address: canonical links, feeds, sitemaps and share cards are absolute on it,
# so a production site must name it rather than put localhost into them.
SITE_URL = env_origin("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "")
if not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set when DEBUG is off, e.g. SITE_URL=https://news.example.com")
# The name pages, feeds, sitemaps, share cards and the admin show; the masthead sets the part
# before the first space as the name and the rest as its tagline.
SITE_NAME = os.environ.get("SITE_NAME", "finews 财经新闻")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "axes",
    "taggit",
    "simple_history",
    "django_celery_results",
    "corsheaders",
    # The JSON API (articles/api/); listed for the offline documentation page's scripts and styles.
    "ninja",
    "articles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Reader pages go out gzipped to browsers that ask (static files are WhiteNoise's, compressed
    # beforehand); behind nginx, once per copy its micro-cache keeps (deploy/nginx.conf). Above the page
    # cache, which keeps pages plain.
    "articles.middleware.ReaderPageGZipMiddleware",
    # A view that cannot reach the database answers the 503 page. Above the replica middleware, which
    # first makes a page whose replica failed again from the primary. Pages the page cache answers
    # (PageCacheMiddleware, the view's decorator) need no database and keep being served in an outage.
    "articles.middleware.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    # NUL in a path or query string is a 400 before any view or query sees it.
    "articles.middleware.RejectUnstorableInputMiddleware",
    # Pages this process served from the page cache are answered here, before the middleware below.
    "articles.middleware.PageCacheMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "finews.urls"
WSGI_APPLICATION = "finews.wsgi.application"

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
                "articles.context_processors.site",
            ],
        },
    },
]

# Without DATABASE_URL the site runs on an embedded SQLite file, so a newcomer
# needs no database server. Production and the test suite use PostgreSQL.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'finews.sqlite3'}"
# PostgreSQL streaming replicas, comma-separated: reader pages read from them, everything else from
# DATABASE_URL (articles/routing.py). A replica that is down, or more than REPLICA_MAX_LAG_SECONDS
# behind, is left out until it is checked again, at most every REPLICA_CHECK_SECONDS per process.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5)
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 5)
# Connections: each process keeps one per database for CONN_MAX_AGE seconds; or, with
# DATABASE_POOL_SIZE, a psycopg pool of up to that many per database, where a request waits up to
# DATABASE_POOL_TIMEOUT seconds for a free one (docs/scaling.md: sizing against max_connections).
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 0)
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10)
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 0 if DATABASE_POOL_SIZE else 600)
if DATABASE_POOL_SIZE and CONN_MAX_AGE:
    raise ImproperlyConfigured("CONN_MAX_AGE must be 0 with DATABASE_POOL_SIZE: the pool keeps the connections")


def database(url, name):
    """Django's settings for the database at `url`, called `name` in error messages."""
    config = dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    config.setdefault("OPTIONS", {})
    postgresql = config["ENGINE"] == "django.db.backends.postgresql"
    if (DATABASE_POOL_SIZE or DATABASE_REPLICA_URLS) and not postgresql:
        raise ImproperlyConfigured(f"{name} must be a postgres:// URL with DATABASE_POOL_SIZE or replicas")
    if DATABASE_POOL_SIZE:
        config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": DATABASE_POOL_TIMEOUT}
    return config


DATABASES = {"default": database(DATABASE_URL, "DATABASE_URL")}
DATABASE_REPLICAS = []
for number, url in enumerate(DATABASE_REPLICA_URLS, 1):
    replica = database(url, f"replica {number} of DATABASE_REPLICA_URLS")
    # A replica that does not answer delays the request that checks it by at most this many seconds.
    replica["OPTIONS"].setdefault("connect_timeout", 2)
    # Tests read a replica's rows from the test database: replicas are read-only and have none of their own.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{number}"] = replica
    DATABASE_REPLICAS.append(f"replica{number}")
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["articles.routing.ReplicaRouter"]
    # Outside the session middleware, so that every query of a request, the session's too, goes where
    # the router sends it.
    sessions = MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    MIDDLEWARE.insert(sessions, "articles.routing.ReplicaMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cached page fragments (headlines, articles, the home page's blocks) live in each process unless
# CACHE_URL names a Redis server (redis://127.0.0.1:6379/0), which all workers then share.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"CACHE_URL must be a redis://, rediss:// or unix:// URL, not {CACHE_URL!r}")
CACHES = {
    "default": (
        {"BACKEND": "finews.cache.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "finews"}
        if CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "finews",
            "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 5000)},
        }
    )
}
# Whole reader pages for anonymous readers (articles.reading.reader_page) are kept in that cache this
# long at most, and served only while what they show is unchanged (articles/freshness.py); 0 turns the
# page cache off. Shared caches in front (nginx's micro-cache, a CDN) are allowed SHARED_CACHE_SECONDS
# (Cache-Control s-maxage): they are not told of changes, so this is how stale they may be. nginx fetches
# an expired page again only when a reader asks for it, and shows the new one once that fetch is done, so
# a change shows after up to this plus the time to make the page under load (make bench-web's mixed run:
# 4 s left up to 6 s at 1,000,000 posts). 2 s costs each hot page one conditional request every 2 s,
# mostly answered 304 from the page cache.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 24 * 60 * 60)
SHARED_CACHE_SECONDS = env_int("SHARED_CACHE_SECONDS", 2)
# A CDN's purge endpoint: each committed change POSTs it the URLs it changed (articles/freshness.py).
CDN_PURGE_URL = os.environ.get("CDN_PURGE_URL", "")

# Failed admin logins are counted by django-axes (FinewsAxesBackend first, so a locked-out login
# never reaches the password check): after LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is locked out for LOGIN_LOCKOUT_MINUTES. Counting the pair, not the address
# alone, keeps one person's typos from locking out a newsroom behind one NAT address, and a stranger
# from locking out an editor by name.
AUTHENTICATION_BACKENDS = [
    "finews.auth.FinewsAxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "finews.auth.lockout_page"
# No start-up banner on every management command; lockouts are still logged.
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# Corrections to Django's own translations (an English full stop in a few Chinese messages).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files whitenoise serves at the site's root, such as /favicon.ico, which browsers ask for unprompted.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Uploads are served by the proxy in production; a local checkout (bin/finews) has Django serve them.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# Uploads, renditions and share cards go to an S3-compatible bucket when MEDIA_S3_BUCKET names one (served
# from the bucket's URL, or from MEDIA_S3_CUSTOM_DOMAIN, a CDN in front of it); else to MEDIA_ROOT, where
# files are written atomically. Keys: MEDIA_S3_ACCESS_KEY_ID / MEDIA_S3_SECRET_ACCESS_KEY, else boto3's own
# (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or an instance role).
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
MEDIA_S3_ENDPOINT_URL = os.environ.get("MEDIA_S3_ENDPOINT_URL", "")
MEDIA_S3_CUSTOM_DOMAIN = os.environ.get("MEDIA_S3_CUSTOM_DOMAIN", "")
MEDIA_S3_REGION = os.environ.get("MEDIA_S3_REGION", "")
if MEDIA_S3_ENDPOINT_URL and not MEDIA_S3_ENDPOINT_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"MEDIA_S3_ENDPOINT_URL must be an http(s):// URL, not {MEDIA_S3_ENDPOINT_URL!r}")
if "/" in MEDIA_S3_CUSTOM_DOMAIN:
    raise ImproperlyConfigured(
        f"MEDIA_S3_CUSTOM_DOMAIN is a host name such as media.example.com, not {MEDIA_S3_CUSTOM_DOMAIN!r}"
    )
MEDIA_S3_OPTIONS = {
    "bucket_name": MEDIA_S3_BUCKET,
    "endpoint_url": MEDIA_S3_ENDPOINT_URL or None,
    "region_name": MEDIA_S3_REGION or None,
    "access_key": os.environ.get("MEDIA_S3_ACCESS_KEY_ID") or None,
    "secret_key": os.environ.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
    "custom_domain": MEDIA_S3_CUSTOM_DOMAIN or None,
    # Public, stable URLs: signed ones would differ on every page and defeat caches.
    "querystring_auth": False,
    # Two uploads called cover.jpg in one month must not overwrite each other.
    "file_overwrite": False,
    "object_parameters": {"CacheControl": "public, max-age=86400"},
}
MEDIA_STORAGE = (
    {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": MEDIA_S3_OPTIONS}
    if MEDIA_S3_BUCKET
    else {"BACKEND": "articles.storage.AtomicFileSystemStorage"}
)
# Where pages load media from when it is not this site, for the Content-Security-Policy below: the CDN;
# else the endpoint (path-style URLs) or the bucket's own host name there (virtual-hosted ones); else AWS.
if MEDIA_S3_CUSTOM_DOMAIN:
    MEDIA_ORIGINS = [f"https://{MEDIA_S3_CUSTOM_DOMAIN}"]
elif MEDIA_S3_BUCKET and MEDIA_S3_ENDPOINT_URL:
    _endpoint = urlsplit(MEDIA_S3_ENDPOINT_URL)
    MEDIA_ORIGINS = [
        f"{_endpoint.scheme}://{host}" for host in (_endpoint.netloc, f"{MEDIA_S3_BUCKET}.{_endpoint.netloc}")
    ]
elif MEDIA_S3_BUCKET:
    _regional = [f"{MEDIA_S3_BUCKET}.s3.{MEDIA_S3_REGION}.amazonaws.com"] if MEDIA_S3_REGION else []
    MEDIA_ORIGINS = [f"https://{host}" for host in (f"{MEDIA_S3_BUCKET}.s3.amazonaws.com", *_regional)]
else:
    MEDIA_ORIGINS = []
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Tags are matched ignoring case; parse_tags also folds full-width forms.
TAGGIT_CASE_INSENSITIVE = True
TAGGIT_TAGS_FROM_STRING = "articles.tagging.parse_tags"

# Lead-image uploads above these are refused; the pixel cap also stops decompression bombs.
# The JSON API (/api/v1/). Apps on any origin may read it: CORS for GETs, nowhere else (the ingest
# endpoint is for the crawler, which is no browser).
CORS_URLS_REGEX = r"^/api/v1/(?!ingest)"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag"]
CORS_PREFLIGHT_MAX_AGE = 86400
# The crawler's ingest: the largest request body (a batch of up to 500 posts), and requests per
# minute for one key.
API_INGEST_MAX_MB = env_int("API_INGEST_MAX_MB", 20)
API_INGEST_RATE_PER_MINUTE = env_int("API_INGEST_RATE_PER_MINUTE", 30)

LEAD_IMAGE_MAX_BYTES = env_int("LEAD_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
LEAD_IMAGE_MAX_PIXELS = env_int("LEAD_IMAGE_MAX_PIXELS", 40_000_000)
# Archives of posts editors upload in the admin (Import posts) above this size are refused; the proxy in
# front must accept bodies this large (nginx: client_max_body_size).
IMPORT_UPLOAD_MAX_MB = env_int("IMPORT_UPLOAD_MAX_MB", 200)
# Font file for generated share cards; empty means the first CJK font fontconfig knows.
SHARE_CARD_FONT = os.environ.get("SHARE_CARD_FONT", "")
# Imports queue share cards for posts published within this many hours; backfill_images queues the rest.
SHARE_CARD_IMPORT_HOURS = env_int("SHARE_CARD_IMPORT_HOURS", 72)
# Seconds a replaced rendition or card (and a deleted post's files) stays in storage: longer than pages
# and fragments are cached (5 and 10 minutes), so no cached page links a removed file.
MEDIA_CLEANUP_DELAY = env_int("MEDIA_CLEANUP_DELAY", 900)

# Newsroom curation. Minutes a post stays breaking news when an editor flags it without a time.
BREAKING_MINUTES = env_int("BREAKING_MINUTES", 30)
# Article reads are counted in the cache and written to the database every VIEW_FLUSH_SECONDS (the most
# a crash of the cache, or of a process without CACHE_URL, can lose); one client's reads of one article
# within VIEW_REPEAT_SECONDS count once.
VIEW_FLUSH_SECONDS = env_int("VIEW_FLUSH_SECONDS", 60)
VIEW_REPEAT_SECONDS = env_int("VIEW_REPEAT_SECONDS", 1800)
# Off, reads are not counted at all (the benchmark's baseline).
VIEW_COUNTING = env_bool("VIEW_COUNTING", True)

# Background jobs run on Celery (articles/tasks.py) with CELERY_BROKER_URL as the broker
# (redis://127.0.0.1:6379/1, or amqp:// for RabbitMQ). Without a broker they run in-process as they
# are queued, so the embedded default and the tests need none. Results, failures included, are kept
# in the database and listed in the admin (django-celery-results).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Nothing is sent, but Celery prepares a producer even for in-process jobs: an in-memory transport.
    CELERY_BROKER_URL = "memory://localhost/"
# In-process, a failing job is recorded like a worker's, and never fails the request that queued it.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_STORE_EAGER_RESULT = True
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
# A job is acknowledged when it is done, so one lost with its worker runs again (jobs are idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# `celery -A finews beat` writes counted reads to the database (articles.tasks.flush_views).
CELERY_BEAT_SCHEDULE = {
    "flush-views": {"task": "articles.tasks.flush_views", "schedule": float(VIEW_FLUSH_SECONDS)},
}


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"without_traceback": {"()": "finews.logs.WithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "console_one_line": {"class": "logging.StreamHandler", "filters": ["without_traceback"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # A request for a host the site does not serve (scanners send them all day): a 400 and one
        # line naming the host, not a traceback each time.
        "django.security.DisallowedHost": {"handlers": ["console_one_line"], "propagate": False},
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Off only for a local checkout served over plain HTTP (bin/finews), where a browser would not
    # send HTTPS-only cookies back and nobody could log in to the admin.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, fonts and requests from this site only, no
# inline code (the JSON-LD blocks are data, which CSP does not run), no plugins, no framing. Images
# also from EastMoney's chart service, the only hosts chart URLs may name, and from EastMoney's
# image CDN (*.dfcfw.com), where the pictures in crawled article bodies live. An image from
# anywhere else is blocked and shows as a broken image.
ARTICLE_IMAGE_HOSTS = ["*.dfcfw.com"]
# Style attributes allowed by their exact text: simple-history's history list has one.
STYLE_ATTRIBUTES = ["border-top: 0"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [
            "'unsafe-hashes'",
            *(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in STYLE_ATTRIBUTES),
        ],
        "img-src": [SELF, *MEDIA_ORIGINS, *sorted(CHART_IMAGE_HOSTS), *ARTICLE_IMAGE_HOSTS],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
