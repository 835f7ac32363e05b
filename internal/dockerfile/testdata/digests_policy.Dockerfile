# dockvet-test rules=DV1010,DV1011,DV1016
# dockvet-test digests=ghcr.io/acme,registry.example.com/team/*
# want DV1016
FROM ghcr.io/acme/base:1.4 AS base
# want DV1016
FROM registry.example.com/team/builder AS builder
# ok DV1016
FROM ghcr.io/acme/runtime:2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS runtime
# The policy covers ghcr.io/acme only: other images keep the usual tag rules.
# ok DV1016
# want DV1011
FROM ghcr.io/other/tool:3 AS tool
# ok DV1016
# want DV1010
FROM registry.example.com/elsewhere/app:latest AS app
# want DV1016
COPY --from=ghcr.io/acme/assets:7 /assets /assets
FROM base
