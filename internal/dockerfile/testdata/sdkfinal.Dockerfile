# dockvet-test rules=DV1014,DV1015
FROM alpine:3.22 AS tools
# want DV1015 "golang:1.26-alpine, which ships the Go toolchain"
FROM golang:1.26-alpine
