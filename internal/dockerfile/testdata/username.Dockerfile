# dockvet-test rules=DV1001,DV1002,DV1005
FROM alpine:3.22
# ok DV1002
USER root
RUN adduser -D app
# want DV1005 "USER app is a name"
USER app
