# dockvet-test rules=DV1001
# want DV1001 "base image cgr.dev/chainguard/python:latest-dev sets a non-root user"
FROM cgr.dev/chainguard/python:latest-dev
