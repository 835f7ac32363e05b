# dockvet-test rules=DV1050,DV1051,DV1052,DV1053,DV1054,DV1055,DV1056,DV1059
FROM debian:bookworm AS build
# ok DV1050 DV1051
RUN apt-get update && apt-get install -y gcc
FROM debian:bookworm-slim
# want DV1050 "`apt-get install` without --no-install-recommends" DV1051 "`apt-get install` leaves its package cache"
RUN apt-get update && apt-get install -y curl
# ok DV1050 DV1051
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
# ok DV1050
RUN apt-get update && apt-get install -y -o APT::Install-Recommends=false curl \
    && rm -rf /var/lib/apt/lists/*
# ok DV1051
RUN --mount=type=cache,target=/var/lib/apt/lists --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends git
RUN apt-get update \
    # want DV1050 "`apt-get install` without --no-install-recommends" DV1051 "`apt-get install` leaves its package cache"
    && apt-get install -y \
       ca-certificates
# want DV1052 "`apk add` leaves its package cache"
RUN apk add curl
# ok DV1052
RUN apk add --no-cache curl
# ok DV1052
RUN apk add curl && rm -rf /var/cache/apk/*
# want DV1053 "`yum install` leaves its package cache"
RUN yum install -y httpd
# ok DV1053
RUN yum install -y httpd && yum clean all
# want DV1054 "`dnf install` leaves its package cache"
RUN dnf install -y nginx
# ok DV1054
RUN dnf install -y nginx && dnf clean all
# want DV1054 "`microdnf install` leaves its package cache"
RUN microdnf install -y nginx
# ok DV1054
RUN microdnf install -y nginx && microdnf clean all
# want DV1055 "`zypper install` leaves its package cache"
RUN zypper --non-interactive install nginx
# ok DV1055
RUN zypper --non-interactive install nginx && zypper clean --all
# want DV1056 "`pip install` without --no-cache-dir"
RUN pip install flask==3.0.3
# ok DV1056
RUN pip install --no-cache-dir flask==3.0.3
# ok DV1056
RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3
# want DV1059 "`npm ci` leaves its package cache"
RUN npm ci
# ok DV1059
RUN npm ci && npm cache clean --force
# ok DV1059
RUN --mount=type=cache,target=/root/.npm npm ci
# want DV1054 "`tdnf install` leaves its package cache"
RUN tdnf install -y nginx
# A bind mount does not keep the cache out of the layer; a cache mount does.
# ok DV1052
RUN --mount=type=bind,source=.,target=/src --mount=type=cache,target=/var/cache/apk apk add curl
# ok DV1053
RUN --mount=type=tmpfs,target=/var/cache/yum yum install -y httpd
# want DV1056 "`pip install` without --no-cache-dir"
RUN python3 -m pip install flask==3.0.3
# ok DV1056
RUN PIP_NO_CACHE_DIR=1 pip install flask==3.0.3
# ok DV1056
RUN pip install flask==3.0.3 && rm -rf /root/.cache
# want DV1059 "`yarn install` leaves its package cache"
RUN yarn
# want DV1059 "`yarn add` leaves its package cache"
RUN yarn add left-pad@1.3.0
# ok DV1059
RUN yarn install --frozen-lockfile && yarn cache clean
