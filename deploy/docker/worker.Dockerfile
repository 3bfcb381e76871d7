# syntax=docker/dockerfile:1
# The media-worker and video-worker (one image; the command picks the role):
#   stereospot worker media | stereospot worker video
# No torch: the video-worker calls a remote inference backend (sagemaker, http, triton).
# PyAV's wheels carry FFmpeg, so no ffmpeg package is needed. Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t stereospot-worker .
# The base is pinned by version (no registry is reachable to resolve a digest here).
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY stereospot ./stereospot
COPY inference_server ./inference_server
RUN pip install --no-cache-dir --upgrade "pip==24.3.1" \
 && pip wheel --no-cache-dir --wheel-dir /wheels ".[aws,triton]"

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STEREOSPOT_PLATFORM=aws \
    STEREOSPOT_DATA_DIR=/data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "stereospot[aws,triton]==0.1.0" \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /data --create-home stereospot
USER 10001
WORKDIR /data
# The worker serves no port; healthy means its process (PID 1 under the init) still runs
# a stereospot worker.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import pathlib, sys; sys.exit(0 if any(b'worker' in p.read_bytes() for p in pathlib.Path('/proc').glob('[0-9]*/cmdline')) else 1)"]
CMD ["stereospot", "worker", "video"]
