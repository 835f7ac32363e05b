# dockvet-test rules=DV1001,DV1005
ARG BASE
ARG APP_UID=10001
FROM alpine:3.22 AS with_user
# ok DV1005
USER ${APP_UID}
# The base is known only at build time: the message names it as written.
# want DV1001 "base image \\$\\{BASE\\} sets a non-root user"
FROM ${BASE}
