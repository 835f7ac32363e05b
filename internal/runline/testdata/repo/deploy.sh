#!/usr/bin/env bash
# docker run lines in a script. H is the hardened option set, so a line's
# findings are the ones its own options cause.
set -euo pipefail
IMG=registry.example.com/app:1.0@sha256:4f1f2a0e3c9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e

# The same options in every form the Docker CLI accepts.
docker run -d --rm --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --privileged "$IMG" # want DV3001
docker run --cap-drop=ALL --security-opt=no-new-privileges:true --read-only=true --memory=256m --cpus=0.5 --pids-limit=100 --user=10001 --privileged=false "$IMG"
docker run -itd --cap-drop ALL --security-opt no-new-privileges --read-only -m256m --cpus 0.5 --pids-limit 100 -u10001 -p5432:5432 "$IMG" # want DV3040

# Continuation lines: each finding is on the line of its option.
sudo docker run \
  --cap-drop ALL --security-opt no-new-privileges --read-only \
  --memory 256m --cpus 0.5 --pids-limit 100 --user 10001 \
  --cap-add SYS_ADMIN \
  -v /var/run/docker.sock:/var/run/docker.sock:ro \
  --pid=host \
  "$IMG" server --port 8080
# want@-4 DV3002
# want@-4 DV3020
# want@-4 DV3010

# A container without any hardening, started through sh -c and env.
sh -c "env DEBUG=1 docker container run nginx" # want DV3003 DV3004 DV3009 DV3030 DV3031 DV3032 DV3051 DV3070

# podman and docker create; podman limits pids by default.
podman run --pod web --userns=keep-id --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 -u 10001 "$IMG"
docker create --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --network host "$IMG" # want DV3013

# Secrets on the command line and in an env file (reported at --env-file).
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 -e DB_PASSWORD=s3cr3t-Pa55w0rd -e API_TOKEN -e LOG_LEVEL=info "$IMG" # want DV3060
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --env-file app.env "$IMG" # want DV3060
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 -e "DB_PASSWORD=$DB_PASSWORD" "$IMG"

# A cgroup parent of its own, and the cgroupfs driver's default named explicitly.
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --cgroup-parent /batch.slice "$IMG" # want DV3036
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --cgroup-parent=/docker "$IMG"

# Not container starts.
echo docker run --privileged nginx
docker compose run --rm migrate
docker run --help
docker ps --filter "name=app"
