# dockvet-test rules=DV1012
# dockvet-test trusted=docker.io,gcr.io/distroless
# ok DV1012
FROM alpine:3.22 AS a
# want DV1012
FROM quay.io/prometheus/busybox:latest AS b
# ok DV1012
FROM gcr.io/distroless/static-debian12 AS c
# want DV1012
FROM gcr.io/other/thing:1 AS d
# want DV1012
COPY --from=ghcr.io/acme/tool:1 /tool /tool
