# dockvet-test rules=DV1015
# ok DV1015
FROM buildpack-deps:trixie-curl
