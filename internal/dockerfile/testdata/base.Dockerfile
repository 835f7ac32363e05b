# dockvet-test rules=DV1010,DV1011,DV1013
ARG BASE=alpine:3.22
# want DV1010
FROM ubuntu AS a
# want DV1010
FROM node:latest AS b
# want DV1011
# ok DV1013
FROM alpine:3.22 AS c
# ok DV1010 DV1011
FROM alpine:3.22@sha256:4f2c8e1a9b7d3c6e5f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a AS d
# ok DV1010 DV1011
FROM a AS e
# want DV1011
FROM ${BASE} AS f
# ok DV1010 DV1011
FROM ${UNSET} AS g
# want DV1011 DV1013
FROM python:3.8-slim AS h
# want DV1011 DV1013
FROM debian:buster-slim AS i
# want DV1011 DV1013
FROM python:3.12-slim-buster AS j
# want DV1011
# ok DV1013
FROM python:3.12-slim AS k
# want DV1011 DV1013
FROM node:16-alpine AS l
# want DV1011 DV1013
FROM alpine:3.18 AS m
# want DV1011
# ok DV1013
FROM node:22 AS n
# want DV1011 DV1013
FROM centos:7 AS o
# want DV1011 DV1013
FROM golang:1.19 AS p
# want DV1011
# ok DV1013
FROM golang:1.26.8 AS q
# ok DV1010 DV1011
FROM scratch AS r
# ok DV1010
COPY --from=a /x /y
# want DV1010
COPY --from=nginx /etc/nginx/nginx.conf /etc/nginx/
