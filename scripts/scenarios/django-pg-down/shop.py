# A one-file Django project (settings, one view, WSGI app) reading orders from
# PostgreSQL through Django's ORM connection (psycopg2). Logging is the basic
# example of Django's logging docs (a console handler on the root logger, no
# formatter): an unhandled error is logged by django.request to stderr as
# "Internal Server Error: /path" and the traceback, without a timestamp.
# (With no LOGGING at all and DEBUG off, Django logs nothing for a 500.)
import os

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="scenario-only",
    LOGGING={"version": 1, "disable_existing_loggers": False,
             "handlers": {"console": {"class": "logging.StreamHandler"}},
             "root": {"handlers": ["console"], "level": "WARNING"}},
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1",
                           "PORT": os.environ["PG_PORT"], "NAME": "postgres", "USER": "postgres"}},
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def orders(request):
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_class")
        n = cur.fetchone()[0]
    return JsonResponse({"orders": n})


def health(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("orders/", orders), path("health/", health)]
application = get_wsgi_application()
