# Guichet's image: the app and its pinned dependencies, run as an unprivileged user.
# Debian trixie's postgresql-client (17) can dump the compose file's PostgreSQL 16 (`guichet backup`).
FROM python:3.11-slim-trixie
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PTB_TIMEDELTA=true \
    GUICHET_NLU_CACHE=/app/var/nlu-cache GUICHET_LOG_FORMAT=json \
    GUICHET_HTTP_HOST=0.0.0.0 GUICHET_HTTP_PORT=8080
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin guichet
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -c constraints.txt . \
    && mkdir -p /app/var && chown guichet:guichet /app/var
USER guichet
VOLUME ["/app/var"]
EXPOSE 8080
# Ready, not merely alive: database reachable, schema at the code's head, background loops running.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GUICHET_HTTP_PORT', '8080') + '/readyz', timeout=4).status == 200 else 1)"]
# Migrations first (idempotent), then the server; SIGTERM from `docker stop` ends it cleanly.
CMD ["sh", "-c", "guichet db upgrade && exec guichet serve"]
