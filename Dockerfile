# Multi-stage build: a static binary on a distroless base, running as non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# docker build --build-arg VERSION=v1.2.3 … sets what bridge -version prints.
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/bridge ./cmd/bridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bridge /bridge
USER nonroot:nonroot
# No shell or curl in this image: the binary checks its own /healthz (alive,
# not /readyz: QQ or a server being down is not fixed by a restart). With
# HTTP_LISTEN=none it reports healthy, having nothing to ask.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/bridge", "-healthcheck"]
ENTRYPOINT ["/bridge"]
