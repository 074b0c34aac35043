FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GFL_HOST=0.0.0.0 GFL_PORT=8000 GFL_WORKERS=1

RUN useradd --create-home --uid 10001 app
WORKDIR /srv/gradient-flow-lab
COPY pyproject.toml README.md ./
COPY app ./app
COPY core ./core
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir .
ENV GFL_ROOT=/srv/gradient-flow-lab

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["sh", "-c", "exec uvicorn app.main:app --host \"$GFL_HOST\" --port \"$GFL_PORT\" --workers \"$GFL_WORKERS\""]
