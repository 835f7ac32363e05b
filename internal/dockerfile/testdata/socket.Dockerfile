# dockvet-test rules=DV1030,DV1031
FROM docker:27-cli
# want DV1030 "ENV DOCKER_HOST=tcp://build-host:2375 connects to"
ENV DOCKER_HOST=tcp://build-host:2375
# ok DV1030
ENV DOCKER_HOST=unix:///var/run/docker.sock
# want DV1030 "DOCKER_HOST=tcp://10.0.0.5:2375 connects to"
RUN DOCKER_HOST=tcp://10.0.0.5:2375 docker ps
# ok DV1030
RUN DOCKER_HOST=tcp://10.0.0.5:2376 DOCKER_TLS_VERIFY=1 docker ps
# want DV1030 "docker -H tcp://10.0.0.5:2375 talks to"
RUN docker -H tcp://10.0.0.5:2375 info
# ok DV1030
RUN docker --tlsverify -H tcp://10.0.0.5:2376 info
# want DV1031 "VOLUME /var/run/docker.sock expects"
VOLUME /var/run/docker.sock
# ok DV1031
VOLUME /var/lib/app
# want DV1031 "RUN mounts the socket /var/run/docker.sock into a build step"
RUN --mount=type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock docker ps
# want DV1031 "VOLUME /run/containerd/containerd.sock expects"
VOLUME /run/containerd/containerd.sock
# want DV1031 "RUN mounts the socket /var/run/docker.sock into a build step"
RUN --mount=type=bind,target=/var/run/docker.sock docker ps
