# syntax=docker/dockerfile:1
# The web app (stereospot web) for the aws platform: no torch, no inference extra.
# Build from the repository root:
#   docker build -f deploy/docker/web.Dockerfile -t stereospot-web .
# The base is pinned by version (no registry is reachable to resolve a digest here).
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY stereospot ./stereospot
COPY inference_server ./inference_server
RUN pip install --no-cache-dir --upgrade "pip==24.3.1" \
 && pip wheel --no-cache-dir --wheel-dir /wheels ".[aws]"

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STEREOSPOT_PLATFORM=aws \
    STEREOSPOT_DATA_DIR=/data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "stereospot[aws]==0.1.0" \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /data --create-home stereospot
USER 10001
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
CMD ["stereospot", "web", "--host", "0.0.0.0", "--port", "8000"]
