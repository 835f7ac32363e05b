# dockvet-test rules=DV1012
# dockvet-test trusted=docker.io,gcr.io/distroless
# ok DV1012
FROM alpine:3.22 AS a
# want DV1012 "quay.io/prometheus/busybox:latest comes from quay.io"
FROM quay.io/prometheus/busybox:latest AS b
# ok DV1012
FROM gcr.io/distroless/static-debian12 AS c
# want DV1012 "gcr.io/other/thing:1 comes from gcr.io"
FROM gcr.io/other/thing:1 AS d
# want DV1012 "ghcr.io/acme/tool:1 comes from ghcr.io"
COPY --from=ghcr.io/acme/tool:1 /tool /tool
