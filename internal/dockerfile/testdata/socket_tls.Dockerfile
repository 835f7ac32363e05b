# dockvet-test rules=DV1030
FROM docker:27-cli
ENV DOCKER_TLS_VERIFY=1
# ok DV1030
ENV DOCKER_HOST=tcp://build-host:2376
