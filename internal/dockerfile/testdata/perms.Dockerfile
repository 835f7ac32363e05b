# dockvet-test rules=DV1080,DV1081,DV1082,DV1083,DV1085
FROM alpine:3.22
# want DV1080 "Mode 777 makes /app writable by every user"
RUN chmod 777 /app
# want DV1080 "Mode a\\+w makes /data writable by every user"
RUN chmod -R a+w /data
# want DV1080 "Mode 666 makes /etc/app/ writable by every user"
COPY --chmod=666 config.yml /etc/app/
# ok DV1080
RUN chmod 755 /app && chmod +w /app/cache
# ok DV1080
RUN chmod 1777 /tmp/sockets
# ok DV1080
RUN chmod o-w /data
# want DV1081 "Mode u\\+s sets the setuid/setgid bit on /usr/local/bin/helper"
RUN chmod u+s /usr/local/bin/helper
# want DV1081 "Mode 4755 sets the setuid/setgid bit on /usr/local/bin/helper"
RUN chmod 4755 /usr/local/bin/helper
# ok DV1081
RUN chmod u-s /usr/bin/passwd && chmod 0755 /usr/local/bin/app
# want DV1082 "setcap grants cap_net_bind_service=\\+ep to /usr/local/bin/app"
RUN setcap cap_net_bind_service=+ep /usr/local/bin/app
# ok DV1082
RUN setcap -r /usr/local/bin/app
# want DV1083 "RUN --security=insecure runs this build step privileged"
RUN --security=insecure mount -t tmpfs none /mnt
# ok DV1083
RUN --security=sandbox true
# want DV1085 "VOLUME /proc/sys is on /proc, a kernel/host"
VOLUME /proc/sys
# ok DV1085
VOLUME ["/var/lib/app", "/data/procedures"]
# want DV1080 "Mode 4777 makes /opt/app/ writable by every user" DV1081 "Mode 4777 sets the setuid/setgid bit on /opt/app/"
ADD --chmod=4777 app.tar.gz /opt/app/
# Sticky and world-writable is what a shared temporary directory needs.
# ok DV1080
RUN chmod a+wt /var/tmp/cache
# A world-writable directory outside /tmp, even sticky, is reported.
# want DV1080 "Mode 1777 makes /srv/shared writable by every user"
RUN chmod 1777 /srv/shared
# Not modes dockvet can read: a mode taken from a file, a bad mode, an unknown who.
# ok DV1080 DV1081
RUN chmod --reference=/etc/passwd /app && chmod 999 /app && chmod z+w /app
# want DV1081 "Mode g\\+s sets the setuid/setgid bit on /srv/shared"
RUN chmod g+s /srv/shared
# The setuid bit means nothing for others.
# ok DV1081
RUN chmod o+s /srv/shared
# A temporary directory the same RUN removes leaves no mode behind.
# ok DV1080
RUN tempDir="$(mktemp -d)" && chmod 777 "$tempDir" && cd "$tempDir" && make && rm -rf "$tempDir"
# Removing something else does not help.
# want DV1080 "Mode 777 makes /srv/data writable by every user"
RUN chmod 777 /srv/data && rm -rf /srv/tmp
