"""Default configuration.

Precedence (weakest first): this module -> instance/config.py -> ``CRM_*`` environment
variables -> the ``test_config`` mapping given to ``create_app``.  Environment variables
drop the ``CRM_`` prefix: ``CRM_DATABASE_URL`` sets ``DATABASE_URL``.  Values are parsed as
JSON when they look like JSON (``CRM_RATELIMIT_ENABLED=false``), otherwise kept as strings.
"""

# "development" or "production".  Production refuses to start without a secret key.
ENV = "development"

# None: generated once into instance/secret_key (development only).
SECRET_KEY = None

# None: a SQLite file in the instance folder.  PostgreSQL: postgresql://user@host/db
DATABASE_URL = None

REDIS_URL = "redis://127.0.0.1:6379/0"

# Run RQ jobs in the web process instead of a worker (set by `make run` when no Redis).
JOBS_INLINE = False

# SQLite: how long a writer waits for the lock, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 15000

# Session and cookies.
SESSION_COOKIE_NAME = "daiban_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = None  # None: True in production, False otherwise
PERMANENT_SESSION_LIFETIME = 8 * 3600  # seconds: one working day
REMEMBER_COOKIE_DURATION = 0

# Login rate limit (Flask-Limiter notation), per client address and per username tried.
# Storage: Redis when it answers, else memory.
RATELIMIT_ENABLED = True
RATELIMIT_LOGIN = "10 per minute"
# The enterprise's progress pages (/e/<token>), per address: enough for a family of phones
# behind one company router, far too few to guess a 192-bit token.
RATELIMIT_PORTAL = "60 per minute"
# The monthly callback sample: the share of each park's milestones finished last month the
# third-party surveyor calls (at least one per park), and the seed that makes the draw
# reproducible.
CALLBACK_SHARE = 0.1
CALLBACK_SEED = 2026

# How many reverse proxies stand in front of the web servers.  Their X-Forwarded-For /
# -Proto / -Host headers are trusted only that many hops deep (Werkzeug's ProxyFix); 0 trusts
# none (the client address is the TCP peer).  Behind one nginx: 1.
PROXY_COUNT = 0

# Request bodies larger than this are refused with 413.
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
# A spreadsheet uploaded to the import (a whole city's ledger fits easily).
IMPORT_MAX_BYTES = 20 * 1024 * 1024

# Attachments (files on milestones, progress logs, problems): the largest file accepted, the
# largest image (pixels, against decompression bombs), and where the bytes go: "folder" (files
# under ATTACHMENT_FOLDER, default instance/attachments) or "database" (when web and workers
# share no disk).  Files already stored are read from where they were written.
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
ATTACHMENT_MAX_PIXELS = 50_000_000
ATTACHMENT_STORAGE = "folder"
ATTACHMENT_FOLDER = None
# ATTACHMENT_STORAGE = "s3": an S3-compatible store (MinIO, Ceph RGW, a cloud's object storage)
# through the minio client.  The endpoint is host[:port]; the bucket must exist.
ATTACHMENT_S3_ENDPOINT = None
ATTACHMENT_S3_BUCKET = None
ATTACHMENT_S3_ACCESS_KEY = None
ATTACHMENT_S3_SECRET_KEY = None
ATTACHMENT_S3_REGION = None
ATTACHMENT_S3_SECURE = True  # https

# UI language: Simplified Chinese by default, English available.
BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}

# Pages.
PAGE_SIZE = 25

# Milestones: a running milestone with at most this many working days left is "due soon".
SLA_WARNING_WORKDAYS = 2

# The base URL printed into PDFs (QR codes) and notifications.
PUBLIC_BASE_URL = "http://127.0.0.1:5000"

# JSON API (/api/v1): requests per token, body size, page size.
RATELIMIT_API = "600 per minute"
API_MAX_BODY_BYTES = 256 * 1024
API_MAX_PAGE_SIZE = 100

# PDFs (service orders, summaries): built by RQ workers from the "pdf" queue, stored in the
# database.  Seconds unless said otherwise.
PDF_JOB_TIMEOUT = 120  # RQ stops a build that takes longer (then it is retried)
PDF_RETRY_INTERVALS = [10, 60]  # backoff before each retry (RQ Retry; the worker's scheduler runs them)
PDF_RESULT_TTL = 3600  # RQ keeps a finished job this long (the PDF itself is in the database)
PDF_FAILURE_TTL = 7 * 24 * 3600  # and a failed job this long, for inspection
# A pending PDF whose job has shown no sign of life for this long is lost (worker killed, Redis
# flushed): recovery (at worker start and periodically) hands it to the queue again.
PDF_STALE_SECONDS = 120
PDF_MAX_ATTEMPTS = 6  # after this many builds of one document, recovery marks it failed

# Dashboards: the leadership dashboard reads per-park rollups that a periodic job refreshes
# every minute; a page finding them older than this (seconds) refreshes them first.
ROLLUP_MAX_AGE_SECONDS = 300
# Rows in each list of a dashboard (the full list is one click away).
DASHBOARD_LIST_ROWS = 10

# Alerts outside the app (crm/notifications): email over SMTP and the parks' WeCom group
# robots.  Email is off while MAIL_HOST is empty.  MAIL_SECURITY: "starttls", "ssl" or "none".
MAIL_HOST = ""
MAIL_PORT = 587
MAIL_SECURITY = "starttls"
MAIL_USERNAME = ""
MAIL_PASSWORD = ""
MAIL_FROM = "daiban@localhost"
MAIL_TIMEOUT = 20
# The WeCom robot API (tests point it at a local receiver); a park stores only its robot's key.
WECOM_API_BASE = "https://qyapi.weixin.qq.com"
WECOM_TIMEOUT = 10
# Messages go out on working days between these local hours (HH:MM) unless urgent; the rest
# wait for the next working morning.  Kinds listed as urgent go out at once.
ALERT_WINDOW = ("08:00", "20:00")
ALERT_URGENT_KINDS = []
# The daily digest (working days only), local time.
ALERT_DIGEST_AT = "08:30"
# Retries: doubling from this many seconds up to the cap; dead after this many tries.
ALERT_RETRY_BASE_SECONDS = 60
ALERT_RETRY_CAP_SECONDS = 3600
ALERT_MAX_ATTEMPTS = 8
# A delivery claimed by a worker that died is taken up again after this many seconds.
ALERT_CLAIM_SECONDS = 300
# The escalation ladder, in working days: a milestone overdue by N (or a blocker open for N)
# is escalated to the audience once.  Audiences: "owner" (the milestone's owner or the lead
# agent, and the chief consultant), "park_manager", "city" (the leaders).
ALERT_ESCALATION = {
    "milestone": [[1, "owner"], [3, "park_manager"], [5, "city"]],
    "blocker": [[5, "park_manager"]],
}

# Supervision rounds (调度): a new round is due this many working days after it opens (the
# form's default), and closes by itself this many working days after its due date (late
# reports are taken until then).
ROUND_DUE_WORKDAYS = 5
ROUND_CLOSE_AFTER_WORKDAYS = 2
# A round of more projects than this has its reports written by a worker (the page says so).
ROUND_OPEN_INLINE_MAX = 5000
# A coordination problem is due this many working days after it is raised at (or escalated
# to) each level; an overdue problem escalates one level (park -> district -> city) when
# PROBLEM_ESCALATE is true.
PROBLEM_DUE_WORKDAYS = {"park": 10, "district": 15, "city": 20}
PROBLEM_ESCALATE = True
