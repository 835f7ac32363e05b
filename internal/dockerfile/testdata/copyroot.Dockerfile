# dockvet-test rules=DV1058
FROM alpine:3.22 AS build
FROM scratch
# want DV1058 "COPY --from=build / copies the whole filesystem"
COPY --from=build / /
# ok DV1058
COPY --from=build /usr/local/bin/app /app
