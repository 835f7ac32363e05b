# dockvet-test rules=DV1010,DV1011,DV1016
# dockvet-test digests=ghcr.io/acme,registry.example.com/team/*
# want DV1016 "ghcr.io/acme/base:1.4 is named by the mutable tag :1.4, but the trust policy requires a digest"
FROM ghcr.io/acme/base:1.4 AS base
# want DV1016 "registry.example.com/team/builder is named by no tag at all \\(so :latest\\), but the trust policy requires a digest"
FROM registry.example.com/team/builder AS builder
# ok DV1016
FROM ghcr.io/acme/runtime:2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS runtime
# The policy covers ghcr.io/acme only: other images keep the usual tag rules.
# ok DV1016
# want DV1011 "ghcr.io/other/tool:3 is pinned by tag only"
FROM ghcr.io/other/tool:3 AS tool
# ok DV1016
# want DV1010 "registry.example.com/elsewhere/app:latest uses the mutable :latest tag"
FROM registry.example.com/elsewhere/app:latest AS app
# want DV1016 "ghcr.io/acme/assets:7 is named by the mutable tag :7, but the trust policy requires a digest"
COPY --from=ghcr.io/acme/assets:7 /assets /assets
FROM base
