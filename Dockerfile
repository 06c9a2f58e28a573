# little-stack in a container, for `little serve` (the scheduled audit with metrics).
#
#   docker build -t little-stack .
#   docker run --rm -p 9000:9000 -v "$PWD:/project:ro" -v little-state:/state \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     -e LITTLE_SERVE_TOKEN little-stack
#
# The project (little.yaml, stacks/, templates/, policies/) is mounted at /project; the scan
# configurations added through the API are kept in the /state volume.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin little

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin little \
 && mkdir -p /state && chown little /state
COPY --from=build /src/target/release/little /usr/local/bin/little
USER 10001
WORKDIR /project
EXPOSE 9000
STOPSIGNAL SIGTERM
# Probes: GET /healthz (alive) and GET /readyz (the first audit has finished).
ENTRYPOINT ["little", "serve", "--listen", "0.0.0.0:9000", "--state", "/state/serve-state.json"]
