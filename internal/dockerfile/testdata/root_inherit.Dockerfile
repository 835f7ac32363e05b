# dockvet-test rules=DV1001,DV1002,DV1005
FROM alpine:3.22 AS base
# The final stage inherits the last USER of the stage it is built on.
# want DV1002 "USER root is the last user"
USER root
# ok DV1001 DV1002
FROM base
RUN apk add --no-cache curl
