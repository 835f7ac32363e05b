# dockvet-test rules=DV1003,DV1004
FROM alpine:3.22
# want DV1003 "`sudo apk` runs in a build step"
RUN sudo apk add --no-cache curl
# want DV1003 "`sudo id` runs in a build step"
RUN sh -c "sudo id"
# ok DV1003
RUN echo sudo is only a word here
# ok DV1003
RUN apk add --no-cache sudo
RUN <<EOF
set -e
# want DV1003 "`sudo true` runs in a build step"
sudo true
EOF
# want DV1004 "`su` switches user"
RUN su app -c "touch /tmp/x"
# ok DV1004
RUN gosu app true && echo su
