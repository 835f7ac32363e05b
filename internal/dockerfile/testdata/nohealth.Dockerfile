# dockvet-test rules=DV1091
# want DV1091 "The final image defines no HEALTHCHECK"
FROM alpine:3.22
