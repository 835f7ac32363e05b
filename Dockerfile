# dockvet in a container: a static binary on distroless, as a non-root user.
#   docker build -t dockvet .
#   docker run --rm -v "$PWD:/src:ro" -w /src dockvet scan .
FROM golang:1.26-alpine@sha256:f1ddd9fe14fffc091dd98cb4bfa999f32c5fc77d2f2305ea9f0e2595c5437c14 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd/ cmd/
COPY internal/ internal/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/dockvet ./cmd/dockvet

FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /out/dockvet /usr/local/bin/dockvet
USER 65532:65532
# A command-line tool, not a service: there is nothing to health-check.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/dockvet"]
