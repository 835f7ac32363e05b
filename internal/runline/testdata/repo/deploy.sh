#!/usr/bin/env bash
# docker run lines in a script. H is the hardened option set, so a line's
# findings are the ones its own options cause.
set -euo pipefail
IMG=registry.example.com/app:1.0@sha256:4f1f2a0e3c9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e

# The same options in every form the Docker CLI accepts.
docker run -d --rm --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --privileged "$IMG" # want DV3001 "runs privileged"
docker run --cap-drop=ALL --security-opt=no-new-privileges:true --read-only=true --memory=256m --cpus=0.5 --pids-limit=100 --user=10001 --privileged=false --publish-all=false "$IMG" # ok DV3001 DV3042
docker run -itd --cap-drop ALL --security-opt no-new-privileges --read-only -m256m --cpus 0.5 --pids-limit 100 -u10001 -p5432:5432 "$IMG" # want DV3040 `publishes port 5432 \(PostgreSQL\) on all host interfaces \(5432:5432\)`

# Continuation lines: each finding is on the line of its option.
sudo docker run \
  --cap-drop ALL --security-opt no-new-privileges --read-only \
  --memory 256m --cpus 0.5 --pids-limit 100 --user 10001 \
  --cap-add SYS_ADMIN \
  -v /var/run/docker.sock:/var/run/docker.sock:ro \
  --pid=host \
  "$IMG" server --port 8080
# want@-4 DV3002 "is given capability SYS_ADMIN"
# want@-4 DV3020 `mounts the engine socket /var/run/docker.sock at /var/run/docker.sock \(read-only does not limit the API\)`
# want@-4 DV3010 "shares the host's PID namespace"

# A container without any hardening, started through sh -c and env.
# want DV3003 "does not drop Docker's default capabilities"
# want DV3004 "does not set no-new-privileges"
# want DV3009 "has a writable root filesystem"
# want DV3030 "has no memory limit"
# want DV3031 "has no CPU limit or CPU share"
# want DV3032 "has no pids limit"
# want DV3051 "sets no user"
# want DV3070 "runs image nginx, which has no tag and so means :latest"
sh -c "env DEBUG=1 docker container run nginx"

# podman and docker create; podman limits pids by default.
podman run --pod web --userns=keep-id --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 -u 10001 "$IMG" # ok DV3014 DV3032
podman run --cap-drop ALL --security-opt no-new-privileges --security-opt unmask=ALL --read-only -m 256m --cpus 0.5 -u 10001 "$IMG" # want DV3008 "unmasks the kernel's /proc and /sys paths"
docker create --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --network host "$IMG" # want DV3013 "shares the host's network namespace"

# Secrets on the command line and in an env file (reported at --env-file).
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 -e DB_PASSWORD=s3cr3t-Pa55w0rd -e API_TOKEN -e LOG_LEVEL=info "$IMG" # want DV3060 "gets a literal credential in environment variable DB_PASSWORD"
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --env-file app.env "$IMG" # want DV3060 "gets a literal credential in environment variable STRIPE_SECRET_KEY.*from app.env line 2"
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 -e "DB_PASSWORD=$DB_PASSWORD" "$IMG" # ok DV3060

# A cgroup parent of its own, and the cgroupfs driver's default named explicitly.
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --cgroup-parent /batch.slice "$IMG" # want DV3036 "runs under cgroup parent /batch.slice instead of the daemon's"
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --cgroup-parent=/docker "$IMG" # ok DV3036

# The host network ignores published ports; DOCKER_TLS_VERIFY passed from
# the caller's environment may well be set.
# want DV3013 "shares the host's network namespace"
# ok DV3040
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 --network host -p 5432:5432 "$IMG"
docker run --cap-drop ALL --security-opt no-new-privileges --read-only -m 256m --cpus 0.5 --pids-limit 100 -u 10001 -e DOCKER_HOST=tcp://dind:2375 -e DOCKER_TLS_VERIFY "$IMG" # ok DV3021

# Not container starts.
echo docker run --privileged nginx # ok DV3001
docker compose run --rm migrate
docker run --help
docker ps --filter "name=app"
