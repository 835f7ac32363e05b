# dockvet-test rules=DV1091
# want DV1091
FROM alpine:3.22
