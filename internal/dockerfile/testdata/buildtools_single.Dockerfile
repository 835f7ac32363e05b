# dockvet-test rules=DV1057
FROM debian:bookworm-slim
# want DV1057 "installs build tools \\(build-essential, libssl-dev\\)"
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libssl-dev && rm -rf /var/lib/apt/lists/*
# ok DV1057
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
# ok DV1057
RUN apk add --no-cache --virtual .build-deps gcc musl-dev && make && apk del .build-deps
# ok DV1057
RUN apt-get update && apt-get install -y --no-install-recommends gcc && make && apt-get purge -y gcc && rm -rf /var/lib/apt/lists/*
