# dockvet-test rules=DV1012
# ok DV1012
FROM quay.io/prometheus/busybox:latest
