# dockvet-test rules=DV1014,DV1015
# ok DV1015
FROM golang:1.26 AS build
RUN true
# want DV1014 "python:3.13, a full distribution; use python:<version>-slim"
FROM python:3.13
