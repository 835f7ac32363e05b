# dockvet-test rules=DV1047
# build.Dockerfile.dockerignore excludes secrets.env. The context's
# .dockerignore is not read at all, so its *.md no longer keeps notes.md
# out: BuildKit uses only the first ignore file it finds.
FROM alpine:3.20
COPY . /src
