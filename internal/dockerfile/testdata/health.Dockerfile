# dockvet-test rules=DV1091
FROM alpine:3.22 AS base
HEALTHCHECK CMD ["/app", "healthcheck"]
# ok DV1091
FROM base
