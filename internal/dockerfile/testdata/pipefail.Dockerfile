# dockvet-test rules=DV1104
FROM alpine:3.22 AS combined
# Combined flags set pipefail as -o pipefail does.
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
# ok DV1104
RUN wget -O - https://some.site | wc -l > /number
FROM alpine:3.22 AS bundle
SHELL ["/bin/ash", "-euxo", "pipefail", "-c"]
# ok DV1104
RUN wget -O - https://some.site | wc -l > /number
FROM alpine:3.22 AS errexit
# Errexit alone does not catch a failing pipe.
SHELL ["/bin/bash", "-e", "-c"]
# want DV1104 "`wget \\| wc` can fail silently"
RUN wget -O - https://some.site | wc -l > /number
FROM alpine:3.22
# set -euxo pipefail in the RUN, before the pipe.
# ok DV1104
RUN set -euxo pipefail; wget -O - https://some.site | wc -l > /number
# Words that only mention pipefail do not set it.
# want DV1104 "`wget \\| wc` can fail silently"
RUN echo "use -o pipefail" && wget -O - https://some.site | wc -l > /number
# Set after the pipe: too late for it.
# want DV1104 "`wget \\| wc` can fail silently"
RUN wget -O - https://some.site | wc -l > /number; set -o pipefail
# A pipe that ends in a check fails when its input is missing.
# ok DV1104
RUN locale -a | grep 'en_US.utf8'
# ok DV1104
RUN grep " node.tar.gz\$" SHASUMS256.txt | sha256sum -c -
# Negated, the check passes on an empty input: a failing ldd goes unseen.
# want DV1104 "`ldd \\| grep` can fail silently"
RUN ! { ldd /usr/lib/*.so | grep 'not found'; }
# An inverted grep is a filter, and the pipe goes on.
# want DV1104 "`apk \\| grep` can fail silently"
RUN apk info | grep -v '^[.]ruby-' | xargs -r apk add
# In a condition the check's failure picks a branch: a failing apk passes it.
# want DV1104 "`apk \\| grep` can fail silently"
RUN if apk --no-network list --installed | grep -v '^[.]ruby-' | grep -i ruby; then exit 1; fi
