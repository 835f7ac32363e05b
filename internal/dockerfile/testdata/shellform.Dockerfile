# dockvet-test rules=DV1095
FROM alpine:3.22 AS build
# ok DV1095
CMD echo build stage
FROM alpine:3.22
# want DV1095 "ENTRYPOINT /app/run --flag runs under /bin/sh -c"
ENTRYPOINT /app/run --flag
# ok DV1095
CMD ["--port", "8080"]
