# dockvet-test rules=DV1091
# ok DV1091
FROM alpine:3.22
HEALTHCHECK NONE
