#!/bin/sh
# How the example is started in "production": a deliberately insecure
# `docker run` line. The token is fabricated.
docker run -d --name insecure-app \
  --privileged \
  --cap-add ALL \
  --network host \
  -v /:/host \
  -v /var/run/docker.sock:/var/run/docker.sock \
  -e GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345 \
  --security-opt apparmor=unconfined \
  insecure-app:latest
