# syntax=docker/dockerfile:1
# capi-relay container image.
#
# Stage 1 builds a wheel of the project (and collects the wheels of its dependencies);
# stage 2 installs them into a clean slim Python with no compilers and no source tree,
# runs as an unprivileged user (uid 10001) and copies the event contract (schemas/) to
# /app/schemas, which the package finds through CAPI_SCHEMA_DIR.
#
#   docker build -t capi-relay:local .
#   docker run --rm -v $PWD/config.example.yaml:/etc/capi-relay/config.yaml:ro capi-relay:local

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY consumer ./consumer
COPY connectors ./connectors
COPY sandbox ./sandbox
RUN pip wheel --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CAPI_SCHEMA_DIR=/app/schemas
RUN groupadd --system --gid 10001 capi \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin capi \
 && mkdir -p /var/lib/capi-relay /etc/capi-relay \
 && chown 10001:10001 /var/lib/capi-relay
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels capi-relay
COPY schemas /app/schemas
# The relative default store path (var/...) and any scratch files land in a writable directory;
# Kubernetes mounts an emptyDir here and on /tmp (the root filesystem is read-only there).
WORKDIR /var/lib/capi-relay
USER 10001:10001
EXPOSE 9400
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9400/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["capi-relay"]
CMD ["run", "--config", "/etc/capi-relay/config.yaml"]
