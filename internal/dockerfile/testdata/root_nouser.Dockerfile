# dockvet-test rules=DV1001,DV1002,DV1005
# want DV1001 "base image alpine:3.22 sets a non-root user"
FROM alpine:3.22
RUN adduser -D app
