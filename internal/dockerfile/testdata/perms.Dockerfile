# dockvet-test rules=DV1080,DV1081,DV1082,DV1083,DV1085
FROM alpine:3.22
# want DV1080
RUN chmod 777 /app
# want DV1080
RUN chmod -R a+w /data
# want DV1080
COPY --chmod=666 config.yml /etc/app/
# ok DV1080
RUN chmod 755 /app && chmod +w /app/cache
# ok DV1080
RUN chmod 1777 /tmp/sockets
# ok DV1080
RUN chmod o-w /data
# want DV1081
RUN chmod u+s /usr/local/bin/helper
# want DV1081
RUN chmod 4755 /usr/local/bin/helper
# ok DV1081
RUN chmod u-s /usr/bin/passwd && chmod 0755 /usr/local/bin/app
# want DV1082
RUN setcap cap_net_bind_service=+ep /usr/local/bin/app
# ok DV1082
RUN setcap -r /usr/local/bin/app
# want DV1083
RUN --security=insecure mount -t tmpfs none /mnt
# ok DV1083
RUN --security=sandbox true
# want DV1085
VOLUME /proc/sys
# ok DV1085
VOLUME ["/var/lib/app", "/data/procedures"]
