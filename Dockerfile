# Gradient Flow Lab — a slim image serving the app with uvicorn.
#   docker build -t gradient-flow-lab .
#   docker run -p 8000:8000 -e GFL_WORKERS=2 gradient-flow-lab
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GFL_HOST=0.0.0.0 \
    GFL_PORT=8000 \
    GFL_WORKERS=1 \
    GFL_DATA_DIR=/data

WORKDIR /srv/gradient-flow-lab
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY gradient_flow_lab ./gradient_flow_lab
COPY app ./app
COPY core ./core
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 app \
    && mkdir /data && chown app /data

# the store (uploaded weights): SQLite here unless GFL_DATABASE_URL names a PostgreSQL server
VOLUME /data
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GFL_PORT', '8000') + '/healthz', timeout=2)"]
CMD ["gradient-flow-lab", "serve"]
