# dockvet-test rules=DV1056
FROM python:3.13-slim AS base
# pip disables its cache for PIP_NO_CACHE_DIR=false too.
ENV PIP_NO_CACHE_DIR=false
FROM base
# The ENV of the stage this one is built on holds.
# ok DV1056
RUN pip install flask==3.0.3
