# dockvet-test rules=DV1057
FROM debian:bookworm-slim AS build
# ok DV1057
RUN apt-get update && apt-get install -y gcc make
FROM debian:bookworm-slim
