# dockvet-test rules=DV1001
# Chainguard images run as uid 65532, except their -dev variants.
# ok DV1001
FROM cgr.dev/chainguard/python:latest
