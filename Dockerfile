# The `weft` binary, static (musl), alone in an image FROM scratch: `weft serve` on 0.0.0.0:$PORT.
#
#   docker build -t weft .
#   docker run --rm -p 8088:8088 -e WEFT_TOKEN=change-me weft                   # the demo agent
#   docker run --rm -p 8088:8088 -e WEFT_TOKEN=change-me -e OPENAI_API_KEY \
#     -v "$PWD/examples/declarative:/agents:ro" weft /agents/weather.yaml        # your agent files
#
# The image listens on 0.0.0.0 (WEFT_HOST), which needs a token: set WEFT_TOKEN (clients send
# `Authorization: Bearer …`); without it the server refuses to start (exit code 2). PORT sets the
# port (8088 by default, the hosted-agent contract's). The build runs scripts/static-build.sh, whose full run (scripts/test) also checks
# the binary is static and serves alone in an empty chroot.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/target
RUN scripts/static-build.sh --build-only /out/weft

FROM scratch
# The CA certificates, for model servers and MCP servers over HTTPS.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/weft /weft
ENV PORT=8088 WEFT_HOST=0.0.0.0
EXPOSE 8088
# Not root: the distroless "nonroot" user and group ids (no /etc/passwd is needed).
USER 65532:65532
ENTRYPOINT ["/weft", "serve"]
