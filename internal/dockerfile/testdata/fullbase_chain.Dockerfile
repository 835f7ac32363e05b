# dockvet-test rules=DV1014,DV1015
# The final stage is built on a stage, itself on a full distribution.
# want DV1014 "ubuntu:24.04, a full distribution; use a distroless or -slim image"
FROM ubuntu:24.04 AS base
# ok DV1014 DV1015
FROM base
