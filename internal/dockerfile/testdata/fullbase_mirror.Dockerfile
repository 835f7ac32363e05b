# dockvet-test rules=DV1014,DV1015
# Not a Docker Hub official image: its variants are unknown.
# ok DV1014 DV1015
FROM registry.example.com/library/debian:12
