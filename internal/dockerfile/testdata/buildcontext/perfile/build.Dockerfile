# build.Dockerfile.dockerignore excludes secrets.env. The context's
# .dockerignore is not read at all, so its *.md no longer keeps notes.md
# out: BuildKit uses only the first ignore file it finds.
FROM alpine:3.20
# want DV1047 notes.md:1
COPY . /src
