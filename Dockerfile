# syncforced, syncforce and sfemu on Debian bookworm: a build stage and a small
# runtime stage with only the runtime libraries, run as a non-root user.
#
#   podman build -t syncforce/syncforced:0.1.0 .        (or docker build)
#
# BINARIES=source (the default) compiles in the build stage; scripts/image
# passes BINARIES=prebuilt to copy the binaries it built on a bookworm host
# (same libraries) from .image/bin instead, and BASE_IMAGE set to a bookworm
# root filesystem it made with mmdebstrap. No HEALTHCHECK: Kubernetes probes
# the node over grpc.health.v1 (deploy/k8s).
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
ARG BINARIES=source

# ---- build from source ----------------------------------------------------------
FROM ${BASE_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libcaf-dev libpqxx-dev libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev \
      libspdlog-dev libfmt-dev nlohmann-json3-dev libsimdjson-dev prometheus-cpp-dev \
      libcurl4-openssl-dev libcpp-httplib-dev libcli11-dev libssl-dev zlib1g-dev libavro-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSYNCFORCE_BUILD_TESTS=OFF -DSYNCFORCE_BUILD_BENCH=OFF \
 && cmake --build /build --target syncforced syncforce sfemu \
 && mkdir /out \
 && cp /build/bin/syncforced /build/bin/syncforce /build/bin/sfemu /out/ \
 && strip --strip-unneeded /out/*

FROM scratch AS binaries-source
COPY --from=build /out/ /

# ---- or binaries built on a bookworm host (scripts/image) -----------------------
FROM scratch AS binaries-prebuilt
COPY .image/bin/ /

FROM binaries-${BINARIES} AS binaries

# ---- runtime ----------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
COPY deploy/image/runtime-packages /tmp/runtime-packages
# A base that already holds the runtime packages (scripts/image's) needs no
# package index; debian:bookworm-slim installs them.
RUN set -eu; \
    pkgs=$(grep -v '^#' /tmp/runtime-packages); \
    if ! dpkg-query -W $pkgs > /dev/null 2>&1; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    rm /tmp/runtime-packages; \
    groupadd --system --gid 10001 syncforce; \
    useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin syncforce
COPY --from=binaries / /usr/local/bin/
USER 10001:10001
# gRPC (health, admin API, node-to-node) and Prometheus metrics.
EXPOSE 50051 9464
LABEL org.opencontainers.image.title="syncforced" \
      org.opencontainers.image.description="Syncforce: Salesforce <-> PostgreSQL sync, Heroku Connect compatible (syncforced node, syncforce CLI, sfemu emulator)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="debian:bookworm"
ENTRYPOINT ["/usr/local/bin/syncforced"]
