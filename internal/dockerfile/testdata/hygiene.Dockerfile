# dockvet-test rules=DV1090,DV1092,DV1093,DV1094,DV1096,DV1097,DV1098,DV1099,DV1100,DV1101,DV1102,DV1103,DV1104,DV1106,DV1113,DV1114,DV1115,DV1116,DV1117,DV1118,DV1119
# want DV1119 "FROM --platform=linux/amd64 is hard-coded"
FROM --platform=linux/amd64 alpine:3.22 AS build
# want DV1090 "MAINTAINER is deprecated"
MAINTAINER someone@example.com
# ok DV1090
LABEL org.opencontainers.image.authors="someone@example.com"
# want DV1096 "WORKDIR src is relative"
WORKDIR src
WORKDIR /src
# ok DV1096
WORKDIR lib
# ok DV1098
RUN cd lib && make
# want DV1098 "`cd /src/lib` in RUN"
RUN cd /src/lib && make
# ok DV1098
RUN (cd /tmp && tar xf x.tar)
# want DV1099 "COPY --from=build copies from the stage it is in"
COPY --from=build /a /b
# want DV1101 "COPY --from=2 names stage 2, which is not an earlier stage"
COPY --from=2 /a /b
# want DV1101 "COPY --from=later refers to a stage defined later \\(line 67\\)"
COPY --from=later /a /b
# want DV1102 "COPY has 2 sources but destination /dest does not end with /"
COPY a.txt b.txt /dest
# ok DV1102
COPY a.txt b.txt /dest/
# want DV1103 "`ln … /bin/sh` replaces the system shell"
RUN ln -sf /bin/bash /bin/sh
# ok DV1103
RUN ln -sf /usr/bin/python3 /usr/bin/python
# want DV1104 "`wget \\| jq` can fail silently"
# ok DV1118
RUN wget -qO- https://example.com/data.json | jq . > /data.json
# ok DV1104
RUN set -o pipefail && wget -qO- https://example.com/data.json | jq . > /data.json
# ok DV1104
RUN echo "hello" | tee /tmp/x
# want DV1106 "useradd -u 1000000 without -l"
RUN useradd -u 1000000 app
# ok DV1106
RUN useradd -l -u 1000000 app2 && useradd -u 10001 app3
# want DV1113 "ADD of local files"
ADD config.yml /etc/app/
# ok DV1113
ADD rootfs.tar.gz /
# want DV1114 "ENV APP_BIN uses \\$APP_HOME, which this same ENV sets"
ENV APP_HOME=/opt/app APP_BIN=${APP_HOME}/bin
# ok DV1114
ENV APP_DATA=${APP_HOME}/data
# want DV1115 "ONBUILD RUN runs in every build"
ONBUILD RUN make
# ok DV1115
RUN make
# want DV1116 "`service` \\(an init system\\) does nothing useful"
RUN service nginx start
# ok DV1116
RUN echo service
# want DV1118 "`curl` is used although `wget` is already used on line 35"
RUN curl -fsS https://example.com/ping
# want DV1097 "WORKDIR /proc/self is inside the system directory"
WORKDIR /proc/self
# ok DV1097
WORKDIR /processing
# ok DV1119 DV1100
FROM --platform=$BUILDPLATFORM alpine:3.22 AS later
# ok DV1099 DV1101
COPY --from=build /a /b
# want DV1100 "Stage name later is already used on line 67"
FROM alpine:3.22 AS later
# want DV1117 "COPY to relative conf/ with no WORKDIR"
COPY app.conf conf/
# want DV1092 "HEALTHCHECK repeated in stage later; only the last one \\(line 77\\) takes effect"
HEALTHCHECK CMD true
# ok DV1092
HEALTHCHECK CMD /app healthcheck
# want DV1093 "CMD repeated in stage later; only the last one \\(line 81\\) takes effect"
CMD ["a"]
# ok DV1093
CMD ["b"]
# want DV1094 "ENTRYPOINT repeated in stage later; only the last one \\(line 85\\) takes effect"
ENTRYPOINT ["/x"]
# ok DV1094
ENTRYPOINT ["/y"]
FROM alpine:3.22
WORKDIR /app
# ok DV1117
COPY app.conf conf/
# An unnamed stage is named by its index.
# want DV1093 "CMD repeated in stage 3; only the last one \\(line 93\\) takes effect"
CMD ["serve"]
CMD ["serve", "--port", "8080"]
# want DV1097 "WORKDIR /etc is inside the system directory /etc"
WORKDIR /etc
# ok DV1097
WORKDIR /etc/myapp
# ok DV1098
RUN cd /tmp/build && make
# want DV1099 "COPY --from=3 copies from the stage it is in"
COPY --from=3 /a /b
# want DV1102 "ADD has 2 sources but destination /opt does not end with /"
ADD a.tgz b.tgz /opt
# ok DV1102
COPY a.txt b.txt .
# ok DV1102
COPY a.txt b.txt $DEST
# A Git source is DV1072's business.
# ok DV1113
ADD git@github.com:acme/tool.git /src/tool
# want DV1113 "ADD of local files"
ADD <<EOF /etc/motd
hello
EOF
FROM alpine:3.22 AS pipes
SHELL ["/bin/ash", "-o", "pipefail", "-c"]
# ok DV1104
RUN wget -qO- https://example.com/tool.tgz | tar -xz
FROM alpine:3.22 AS heredoc
# ok DV1104
RUN <<EOF
set -o pipefail
wget -qO- https://example.com/tool.tgz | tar -xz
EOF
FROM alpine:3.22 AS wbase
# ok DV1096
WORKDIR ${APP_DIR}
# ok DV1096
WORKDIR sub
WORKDIR /app
# A WORKDIR of the stage this one is built on counts.
FROM wbase
# ok DV1117
COPY app.conf conf/
