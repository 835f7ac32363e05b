# dockvet-test rules=DV1050,DV1052,DV1070,DV1107,DV1111,DV1118
FROM debian:bookworm-slim AS download
RUN wget -q https://example.com/a
# want DV1118 "`curl` is used although `wget` is already used"
RUN ["curl", "-fsSLO", "https://example.com/b"]
FROM debian:bookworm-slim
# The exec form runs the program without a shell; the rules read it the same.
# want DV1107 "`apt-get install` has no non-interactive flag" DV1050 "`apt-get install` without --no-install-recommends"
RUN ["apt-get", "install", "apt-utils=2.6.1"]
# want DV1111 "`apt-get update` runs without an install"
RUN ["apt-get", "update"]
# want DV1070 "`curl` output is run by `sh`"
RUN ["/bin/sh", "-c", "curl -fsSL https://get.example.com | sh"]
# ok DV1052
RUN ["apk", "add", "--no-cache", "python3"]
# want DV1052 "`apk add` leaves its package cache"
RUN ["apk", "add", "python3"]
