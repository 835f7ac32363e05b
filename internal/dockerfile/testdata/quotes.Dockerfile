# dockvet-test rules=DV1058,DV1096,DV1097,DV1102,DV1113,DV1117
FROM alpine:3.22 AS build
# Quotes are removed before a path is judged, as BuildKit removes them.
# ok DV1096
WORKDIR "/usr/local"
# ok DV1096
WORKDIR '/srv/app'
# ok DV1117
COPY bla.sh "/usr/local/bin/blubb.sh"
# ok DV1102
COPY foo bar "baz/"
# ok DV1113
ADD "file.tgz" /usr/src/app/
# want DV1097 "WORKDIR /proc/self/fd is inside the system directory /proc"
WORKDIR "/proc/self/fd"
# A variable set by ENV is known: this WORKDIR is absolute.
ENV APP_HOME=/opt/app
# ok DV1096
WORKDIR $APP_HOME
FROM alpine:3.22
# want DV1096 "WORKDIR rel/dir is relative"
WORKDIR "rel/dir"
# want DV1058 "COPY --from=build / copies the whole filesystem of build"
COPY --from=build "/" "/"
# A compressed file may be a tarball: ADD unpacks it.
# ok DV1113
ADD file.xz /usr/src/app/
# want DV1102 "COPY has 2 sources but destination /app does not end with /"
COPY "a" 'b' "/app"
