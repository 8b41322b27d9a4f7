# syntax=docker/dockerfile:1
#
# The Seawall worker image. The build stage installs the project into a
# virtualenv; the runtime stage copies only that virtualenv and the schema
# files onto a slim base, and runs as an unprivileged user.
#
# The image holds no keys and no configuration. At run time, mount:
#   /etc/seawall/config.yaml         the worker configuration (read-only)
#   /etc/seawall/keys/keys.json      the keyring, mode 0400 or 0600, owned by
#                                    uid 10001 (the worker rejects a keyring
#                                    that the group or others can read)
#   /tmp                             a writable tmpfs or emptyDir: faust keeps
#                                    its data directory there
# The root filesystem can then be read-only.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/seawall/venv

WORKDIR /src
COPY pyproject.toml README.md ./
COPY streams ./streams
RUN /opt/seawall/venv/bin/pip install --no-cache-dir .


FROM ${PYTHON_IMAGE}

ARG SEAWALL_UID=10001

LABEL org.opencontainers.image.title="seawall" \
      org.opencontainers.image.description="Masks personal information in Avro records on Kafka before they cross the border" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed numeric uid and gid, so that Kubernetes' runAsUser and fsGroup and
# the owner of a mounted keyring can name them.
RUN groupadd --system --gid "${SEAWALL_UID}" seawall \
    && useradd --system --uid "${SEAWALL_UID}" --gid seawall \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin seawall \
    && install -d -o seawall -g seawall -m 0700 /etc/seawall/keys

COPY --from=build /opt/seawall/venv /opt/seawall/venv
COPY schemas /opt/seawall/schemas

# HOME points at the writable /tmp because the user has no home directory.
ENV PATH=/opt/seawall/venv/bin:${PATH} \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /tmp
USER ${SEAWALL_UID}:${SEAWALL_UID}

# Metrics, /healthz and /readyz (the configuration's metrics.port).
EXPOSE 9400

ENTRYPOINT ["seawall", "worker"]
CMD ["--config", "/etc/seawall/config.yaml"]
