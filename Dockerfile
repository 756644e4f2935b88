# Build stage: compile the release binary.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
# askama compiles the templates in; the page's CSS, script and icon are included too.
COPY templates ./templates
COPY static ./static
RUN cargo build --release --locked && strip target/release/mailpanel

# Run stage: a small Debian with just the binary (migrations are compiled in).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home mailpanel
COPY --from=build /src/target/release/mailpanel /usr/local/bin/mailpanel
USER mailpanel
ENV MAILPANEL_BIND=0.0.0.0:8080 \
    MAILPANEL_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["mailpanel"]
CMD ["serve"]
