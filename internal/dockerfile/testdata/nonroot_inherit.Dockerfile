# dockvet-test rules=DV1001,DV1002,DV1005
FROM alpine:3.22 AS base
RUN adduser -D -u 10001 app
# ok DV1005
USER 10001
# ok DV1001
FROM base
CMD ["/bin/true"]
