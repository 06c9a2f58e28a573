# little-stack in a container, for `little serve` (the scheduled audit with metrics).
#
#   docker build --build-arg LITTLE_GIT_REVISION="$(git rev-parse --short=12 HEAD)" -t little-stack .
#   export LITTLE_SERVE_READ_TOKEN="$(openssl rand -hex 32)"
#   docker run --rm -p 127.0.0.1:9000:9000 -v "$PWD:/project:ro" -v little-state:/state \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     -e LITTLE_SERVE_READ_TOKEN -e LITTLE_SERVE_TOKEN little-stack
#
# The project (little.yaml, stacks/, templates/, policies/) is mounted at /project; the scan
# configurations added through the API are kept in the /state volume.
#
# It listens on 0.0.0.0 inside the container, so it needs a read token: LITTLE_SERVE_READ_TOKEN
# (or `--read-token-file` on a mounted secret). Without one it refuses to start (exit 3), as the
# report and findings name every repository, stack and account. /healthz and /readyz need no
# token. LITTLE_SERVE_TOKEN (optional) enables POST and DELETE /configs.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
# Cargo reads the manifest's [[bench]] targets even to build the binary.
COPY benches ./benches
# `little init` embeds the bootstrap library and the plan workflow.
COPY stacks ./stacks
COPY templates ./templates
COPY policies ./policies
COPY examples/github-actions/plan.yml ./examples/github-actions/plan.yml
# No .git is copied: `little --version` names this revision, or `unknown` without it.
ARG LITTLE_GIT_REVISION
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
# Probes: GET /healthz (alive) and GET /readyz (the first audit has finished). The image has
# no curl: `little healthcheck` GETs http://127.0.0.1:9000/healthz (exit 0 on 2xx, else 1),
# at the port APP_PORT or LITTLE_SERVE_LISTEN set.
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["little", "healthcheck"]
# The address as ecr_exporter's image took it: APP_HOST (all interfaces here) and APP_PORT
# (9000 unless set); LITTLE_SERVE_LISTEN or --listen replace both.
ENV APP_HOST=0.0.0.0 APP_PORT=9000
ENTRYPOINT ["little", "serve", "--state", "/state/serve-state.json"]
