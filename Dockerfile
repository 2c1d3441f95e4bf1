# syntax=docker/dockerfile:1
# PubSubGo broker image: `docker build -t pubsubgo:latest .`
#
# The build stage installs the project into a virtualenv; the runtime stage copies only that
# virtualenv, so no compiler, pip cache or source tree reaches the final image.
# Ports and env names are those of src/pubsubgo/config.py (tests/deploy checks them):
#   8081  API: REST under /v1, WebSocket at /v1/ws, /healthz, /readyz, /metrics (server.port)
#   9092  Prometheus metrics (metrics.port)
#   50051 gRPC: pubsubgo.v1 and go-broker's broker.Broker, health, reflection (grpc.port)

# An exact version with its registry; pin the digest too for reproducible builds:
#   docker build --build-arg PYTHON_IMAGE=docker.io/library/python:3.11.11-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=docker.io/library/python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Only what the package build needs (see .dockerignore).
COPY pyproject.toml README.md ./
COPY src ./src
# pip compiles the bytecode here, so the read-only runtime never needs to write any.
RUN pip install --no-cache-dir .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="pubsubgo" \
      org.opencontainers.image.description="PubSubGo message broker (Python)" \
      org.opencontainers.image.licenses="MIT"
# A fixed numeric uid/gid, so Kubernetes can verify runAsNonRoot without a user database.
RUN groupadd --system --gid 10001 pubsubgo \
    && useradd --system --uid 10001 --gid pubsubgo --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin pubsubgo
COPY --from=build /opt/venv /opt/venv
# The defaults (the repository's config.yaml); Kubernetes mounts its ConfigMap over this
# directory, compose overrides single values with PUBSUB_* variables.
COPY config.yaml /etc/pubsubgo/config/config.yaml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PUBSUB_CONFIG=/etc/pubsubgo/config/config.yaml
WORKDIR /app
USER 10001:10001
EXPOSE 8081 9092 50051
# Liveness of the process (GET /healthz on the API port). The slim image has no curl, so
# Python's urllib does the request; a non-2xx answer raises and exits non-zero.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PUBSUB_SERVER_PORT', '8081'), timeout=2)"]
ENTRYPOINT ["pubsubgo-server"]
