# Multi-stage build: a static binary on a distroless base, running as non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# docker build --build-arg VERSION=v1.2.3 … sets what bridge -version prints.
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/bridge ./cmd/bridge
# The image has no shell to make directories with: bring an empty one along.
RUN mkdir /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bridge /bridge
# bridge.db (queued messages, handled message ids) lives on a volume owned
# by the user the bridge runs as (nonroot is 65532 in distroless).
COPY --from=build --chown=65532:65532 /out/data /data
# A DATA_DIR from docker run --env-file would win over this one and put the
# database in the container: .env.example leaves it commented out.
ENV DATA_DIR=/data
VOLUME /data
USER nonroot:nonroot
# No shell or curl in this image: the binary checks its own /healthz (alive,
# not /readyz: QQ or a server being down is not fixed by a restart). With
# HTTP_LISTEN=none it reports healthy, having nothing to ask.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/bridge", "-healthcheck"]
ENTRYPOINT ["/bridge"]
