# dockvet-test rules=DV1040,DV1041,DV1042,DV1043
# A global ARG (before the first FROM) is reported once, not per stage.
# want DV1041 "ARG GITHUB_TOKEN holds a literal credential \\(ghp_\\*\\*\\*\\*\\)"
ARG GITHUB_TOKEN=ghp_Xr7kQ2mN9pL4vB8cT1wZ6yH3sJ5dF0gA2eK7
# ok DV1041
ARG BASE_TAG=3.22
FROM alpine:${BASE_TAG} AS one
FROM alpine:${BASE_TAG} AS two
