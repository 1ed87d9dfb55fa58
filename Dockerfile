# esink_service image: configured only by environment (docs/configuration.md).
#   docker build -t esink .
#   docker run --rm -p 8080:80 -e SECURITY_TOKEN=change-me esink

# Build stage: the same setup step as the README and CI, then a Release build of the service.
FROM debian:12 AS build
WORKDIR /src
# Setup first, on its own layer: it only depends on these files.
COPY tools/ tools/
COPY tests/interop/package.json tests/interop/package-lock.json tests/interop/
COPY samples/esink_service/demo/package.json samples/esink_service/demo/package-lock.json samples/esink_service/demo/
RUN tools/setup.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DESINK_BUILD_TESTS=OFF \
 && cmake --build build --target esink_service -j"$(nproc)" \
 && install -m 0755 build/samples/esink_service/esink_service /usr/local/bin/esink_service \
 && install -d /usr/local/share/esink \
 && cp -r samples/esink_service/demo/node_modules/socket.io-client/dist /usr/local/share/esink/socket.io-client

# Runtime stage: the shared libraries esink_service links, nothing else.
FROM debian:12
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpq5 libmariadb3 libsqlite3-0 libssl3 libboost-json1.81.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/esink --shell /usr/sbin/nologin esink \
 && install -d -o esink -g esink -m 0750 /var/lib/esink
COPY --from=build /usr/local/bin/esink_service /usr/local/bin/esink_service
# The official browser client, served at /socket.io/socket.io.js like the Node server does.
COPY --from=build /usr/local/share/esink/socket.io-client /usr/local/share/esink/socket.io-client

# The embedded SQLite default (no POSTGRES_DATABASE_URL, no MYSQL_DATABASE) keeps its file here.
ENV PORT=80 \
    ESINK_SQLITE_PATH=/var/lib/esink/esink.db \
    ESINK_SOCKETIO_CLIENT_DIR=/usr/local/share/esink/socket.io-client
VOLUME ["/var/lib/esink"]
WORKDIR /var/lib/esink
USER esink
EXPOSE 80
# Probes: GET /health (200 when the source is connected and caught up, 503 otherwise).
# SIGTERM/SIGINT: exit 0 after a bounded drain; configuration error: 2; startup failure: 1.
ENTRYPOINT ["/usr/local/bin/esink_service"]
