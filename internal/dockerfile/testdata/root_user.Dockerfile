# dockvet-test rules=DV1001,DV1002,DV1005
FROM golang:1.26 AS build
# ok DV1002
USER root
RUN true
# ok DV1001
FROM alpine:3.22
# want DV1002 "USER 0:0 is the last user"
USER 0:0
