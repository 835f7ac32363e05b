# dockvet-test rules=DV1010,DV1011,DV1013
ARG BASE=alpine:3.22
ARG PY="3.8"
ARG REGISTRY
ARG TAG
# want DV1010 "ubuntu has no tag"
FROM ubuntu AS a
# want DV1010 "node:latest uses the mutable :latest tag"
FROM node:latest AS b
# want DV1011 "alpine:3.22 is pinned by tag only"
# ok DV1013
FROM alpine:3.22 AS c
# ok DV1010 DV1011
FROM alpine:3.22@sha256:4f2c8e1a9b7d3c6e5f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a AS d
# ok DV1010 DV1011
FROM a AS e
# want DV1011 "alpine:3.22 is pinned by tag only"
FROM ${BASE} AS f
# ok DV1010 DV1011
FROM ${UNSET} AS g
# want DV1011 "python:3.8-slim is pinned by tag only" DV1013 "based on Python 3.8, which reached end of life on 2024-10-07"
FROM python:3.8-slim AS h
# want DV1011 "debian:buster-slim is pinned by tag only" DV1013 "based on Debian 10 \\(buster\\), which reached end of life on 2024-06-30"
FROM debian:buster-slim AS i
# want DV1011 "python:3.12-slim-buster is pinned by tag only" DV1013 "based on Debian 10 \\(buster\\), which reached end of life on 2024-06-30"
FROM python:3.12-slim-buster AS j
# want DV1011 "python:3.12-slim is pinned by tag only"
# ok DV1013
FROM python:3.12-slim AS k
# want DV1011 "node:16-alpine is pinned by tag only" DV1013 "based on Node.js 16, which reached end of life on 2023-09-11"
FROM node:16-alpine AS l
# want DV1011 "alpine:3.18 is pinned by tag only" DV1013 "based on Alpine 3.18, which reached end of life on 2025-05-09"
FROM alpine:3.18 AS m
# want DV1011 "node:22 is pinned by tag only"
# ok DV1013
FROM node:22 AS n
# want DV1011 "centos:7 is pinned by tag only" DV1013 "based on CentOS Linux, which reached end of life on 2024-06-30"
FROM centos:7 AS o
# want DV1011 "golang:1.19 is pinned by tag only" DV1013 "based on golang 1.19 \\(older than Go 1.20\\), which reached end of life on 2024-02-06"
FROM golang:1.19 AS p
# want DV1011 "golang:1.26.8 is pinned by tag only"
# ok DV1013
FROM golang:1.26.8 AS q
# ok DV1010 DV1011
FROM scratch AS r
# ok DV1010
COPY --from=a /x /y
# want DV1010 "nginx has no tag"
COPY --from=nginx /etc/nginx/nginx.conf /etc/nginx/
# want DV1010 "busybox:latest uses the mutable :latest tag"
RUN --mount=type=bind,from=busybox:latest,target=/bb /bb/bin/true
# Not a valid image reference (upper case): not a place the build pulls.
# ok DV1010 DV1011
COPY --from=Not_An_Image /a /b
# A quoted ARG default is the value without its quotes.
# want DV1011 "python:3.8-slim is pinned by tag only" DV1013 "based on Python 3.8"
FROM python:${PY}-slim AS s
# The registry comes from the build; the tag is missing whatever it is.
# want DV1010 "Image \\$\\{REGISTRY\\}/ubuntu has no tag whatever the build gives"
FROM ${REGISTRY}/ubuntu AS t
# want DV1010 "Image \\$\\{REGISTRY\\}/node:latest uses the mutable :latest tag"
FROM ${REGISTRY}/node:latest AS u
# ok DV1010 DV1011
FROM ${REGISTRY}/ubuntu:${TAG} AS v
# A variable the Dockerfile never declares is empty in FROM: this is alpine.
# want DV1010 "Image alpine has no tag"
FROM alpine${UNDECLARED} AS w
