# dockvet-test rules=DV1001
# ok DV1001
FROM gcr.io/distroless/static-debian12:nonroot
