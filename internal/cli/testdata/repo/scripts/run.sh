#!/bin/sh
# Two container starts; the second has a typo and cannot be audited.
docker run -d --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --privileged registry.example.com/tool:1.0@sha256:4f1f2a0e3c9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e # want DV3001 "runs privileged"
docker run --privilegd registry.example.com/tool:1.0@sha256:4f1f2a0e3c9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e
