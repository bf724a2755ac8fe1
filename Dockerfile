# kafka-s3-sink in a container: `docker build -t kafka-s3-sink .`, then compose.yaml.
# Small on purpose: the slim Python image plus the wheels (~150 MB), no JVM.
FROM python:3.11-slim

# Only what the install needs first, so that editing docs does not rebuild the layer.
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN pip install --no-cache-dir --disable-pip-version-check /src && rm -rf /src

# Not root: the service needs no privilege (it binds REST_PORT, 8083 by default, > 1024).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin sink
USER sink
WORKDIR /home/sink

# Settings come from the environment (compose's env_file: .env); a .env mounted into
# /home/sink works too.  Inside a container the REST API must listen on 0.0.0.0 to be
# published, which needs credentials or REST_ALLOW_UNAUTHENTICATED=true (docs/security.md).
ENV REST_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
EXPOSE 8083

# GET /health (KIP-1017): "starting" while the broker, topic or S3 server is awaited,
# "unhealthy" while one is unreachable; the subcommand uses the .env's port and credentials.
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
    CMD ["kafka-s3-sink", "health"]

ENTRYPOINT ["kafka-s3-sink"]
CMD ["run"]
