# The Korat Development Atlas behind gunicorn (several workers), configured by environment variables.
#
#   docker build -t korat-atlas .
#   docker run -d -p 8050:8050 -v atlas-data:/data -e ATLAS_SECRET_KEY=$(openssl rand -hex 32) korat-atlas
#
# The steps are the README's commands: Debian packages, `pip install -r requirements.txt`,
# then `python -m dashboard serve`. docs/deploy.md explains every variable.
# The partial plotly.js that the page loads (the Makefile's `plotlyjs` step); only the bundle is kept.
FROM node:20-slim AS plotlyjs
WORKDIR /build/dashboard/plotlyjs
COPY dashboard/plotlyjs/ .
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && npm run --silent build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ATLAS_DB=/data/atlas.duckdb \
    ATLAS_DATA_DIR=/data \
    ATLAS_CACHE_DIR=/opt/atlas/cache \
    ATLAS_WORKERS=2 \
    ATLAS_THREADS=4 \
    ATLAS_TIMEOUT=120

# Chromium draws PNG/SVG/PDF exports (kaleido); the fonts give Thai glyphs. The runtime part of the
# Makefile's SYSTEM_PACKAGES (the driver, PostgreSQL, LibreOffice and poppler are for the tests).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        chromium fonts-thai-tlwg fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin atlas

WORKDIR /opt/atlas/app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
COPY --from=plotlyjs /build/dashboard/assets/plotly-map.min.js /build/dashboard/assets/plotly-map.min.css dashboard/assets/
# The app's own modules compiled now: the non-root user cannot write bytecode at start.
RUN python -m compileall -q dashboard layers geodata callbacks

# Boundaries are downloaded by URL with their pinned sha256 and cached as GeoParquet now,
# so a container starts (and builds its demo store) without internet.
RUN python -m geodata boundaries --level province > /dev/null \
    && python -m geodata boundaries --level district > /dev/null \
    && python -m geodata boundaries --level tambon > /dev/null \
    && chown -R atlas:atlas /opt/atlas/cache \
    && mkdir -p /data && chown atlas:atlas /data

USER atlas
# The store lives here; the first start builds the SYNTHETIC demo data set when it is empty.
VOLUME ["/data"]
EXPOSE 8050

# slim has no curl; the first start builds the demo store (about a minute), hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=4).status != 200)"]

CMD ["python", "-m", "dashboard", "serve", "--host", "0.0.0.0", "--port", "8050"]
