# The messagedb server (`messagedb serve`) in a container.
#   docker build -t messagedb .
#   docker run -p 8080:8080 -v messagedb-data:/data -e MESSAGEDB_TOKEN=… messagedb
# docs/containers.md explains each line.

# Build: the release binary of the server package only.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p messagedb-server \
 && install -m 0755 target/release/messagedb /usr/local/bin/messagedb

# Run: the binary on a slim Debian, as a user without privileges.
FROM debian:bookworm-slim
# curl is only for the HEALTHCHECK below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin messagedb \
 && mkdir -p /data \
 && chown messagedb:messagedb /data
COPY --from=build /usr/local/bin/messagedb /usr/local/bin/messagedb
# The server reads every flag from MESSAGEDB_<NAME> too; docker run -e … overrides these.
ENV MESSAGEDB_DATA_DIR=/data \
    MESSAGEDB_PORT=8080 \
    MESSAGEDB_LOG_FORMAT=json
USER messagedb
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${MESSAGEDB_PORT}/health" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/messagedb"]
CMD ["serve"]
