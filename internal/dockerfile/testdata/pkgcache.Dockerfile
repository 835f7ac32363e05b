# dockvet-test rules=DV1050,DV1051,DV1052,DV1053,DV1054,DV1055,DV1056,DV1059,DV1107,DV1109
FROM debian:bookworm-slim
# apt 2.7's dist-clean removes the lists and the packages.
# ok DV1051
RUN apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2 && apt-get dist-clean
# ok DV1051
RUN apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2 && apt-get clean && rm -rf /var/lib/apt/lists
# ok DV1051
RUN apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2 && find /var/lib/apt/lists -type f -delete
# apt-get clean removes packages, not the lists.
# want DV1051 "`apt-get install` leaves its package cache"
RUN apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2 && apt-get clean
# A cache mount over apt's package cache does not cover the lists.
# want DV1051 "`apt-get install` leaves its package cache"
RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2
# A simulated install installs nothing.
# ok DV1050 DV1051 DV1107 DV1109
RUN if apt-get install -s "postgresql-16-jit" > /dev/null 2>&1; then echo yes; fi
# ok DV1107
RUN apt-get install -q -q --no-install-recommends curl=8.5.0-2 && rm -rf /var/lib/apt/lists/*
# aptitude keeps lists too.
# want DV1051 "`aptitude install` leaves its package cache"
RUN aptitude update && aptitude install -y curl=8.5.0-2
# Keeping downloaded packages for a cache mount (Docker's own recipe):
RUN rm -f /etc/apt/apt.conf.d/docker-clean
# want DV1051 "keeps the downloaded packages in /var/cache/apt: the RUN on line 25 removed docker-clean"
RUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y --no-install-recommends gcc=4:12.2.0-3
# ok DV1051
RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends gcc=4:12.2.0-3
# --no-network reads only what is already there.
# ok DV1052
RUN apk add --no-network --virtual .rundeps $runDeps
# `yarn --version` installs nothing.
# ok DV1059
RUN yarn --version
# want DV1059 "`yarn install` leaves its package cache"
RUN yarn
ENV npm_config_cache=/npm-cache
# The cache is where npm_config_cache says: removing that directory cleans it.
# ok DV1059
RUN npm ci && rm -rf /npm-cache
# want DV1059 "`npm ci` leaves its package cache"
RUN npm ci && rm -rf /root/.npm
# dnf's short subcommands and upgrades fill the cache too.
# want DV1054 "`dnf in` leaves its package cache"
RUN dnf in -y mariadb-10.4
# want DV1054 "`dnf upgrade` leaves its package cache"
RUN dnf -y upgrade
# Cleaning before installing cleans nothing.
# want DV1054 "`dnf install` leaves its package cache"
RUN microdnf clean all && dnf install -y mariadb-10.4
# dnf5 keeps its cache in /var/cache/libdnf5.
# ok DV1054
RUN --mount=type=cache,target=/var/cache/libdnf5 dnf install -y mariadb-10.4
# `clean metadata` leaves the packages.
# want DV1053 "`yum install` leaves its package cache"
RUN yum -y install bash-5.1 && yum clean metadata
# ok DV1053
RUN yum -y install bash-5.1 && yum clean all
# want DV1055 "`zypper patch` leaves its package cache"
RUN zypper -n patch
# Removing refreshes the repositories into the cache.
# want DV1055 "`zypper remove` leaves its package cache"
RUN zypper -n install bash=5.2 && zypper clean && zypper -n remove bash
