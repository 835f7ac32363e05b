# dockvet-test rules=DV1020,DV1022,DV1023
FROM alpine:3.22 AS base
# EXPOSE in a stage the final image is built on reaches the image.
# want DV1022 "EXPOSE publishes port 6379 \\(Redis\\)"
EXPOSE 6379
# ok DV1020 DV1022
FROM base
