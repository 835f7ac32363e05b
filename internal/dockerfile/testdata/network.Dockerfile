# dockvet-test rules=DV1020,DV1021,DV1022,DV1023,DV1024,DV1025,DV1026
FROM alpine:3.22 AS build
# ok DV1020
EXPOSE 22
FROM alpine:3.22
# want DV1020 "EXPOSE publishes port 22 \\(SSH\\)"
EXPOSE 22/tcp 8080
# want DV1021 "EXPOSE publishes port 2375 \\(Docker API \\(plain HTTP\\)\\)"
EXPOSE 2375
# want DV1020 "EXPOSE publishes port 22 \\(SSH\\), 23 \\(telnet\\)" DV1021 "EXPOSE publishes port 2375 \\(Docker API \\(plain HTTP\\)\\), 2376 \\(Docker API \\(TLS\\)\\), 2377 \\(Docker Swarm management\\)" DV1022 "EXPOSE publishes port 1433 \\(Microsoft SQL Server\\), 1521 \\(Oracle Database\\), 3306 \\(MySQL/MariaDB\\)" DV1026 "EXPOSE publishes port 111 \\(rpcbind\\), 161 \\(SNMP\\), 445 \\(SMB\\), 2049 \\(NFS\\), 2379 \\(etcd\\), 2380 \\(etcd peer\\)"
EXPOSE 20-3306
# ok DV1020 DV1021 DV1022 DV1023 DV1026
EXPOSE 8080 443/udp ${PORT}
# want DV1022 "EXPOSE publishes port 5432 \\(PostgreSQL\\)"
EXPOSE 5432
# want DV1026 "EXPOSE publishes port 2379 \\(etcd\\), 2380 \\(etcd peer\\)"
EXPOSE 2379 2380
# want DV1023 "Port \"70000\" is outside 0-65535"
EXPOSE 70000
# want DV1023 "Port \"80/quic\": unknown protocol \"quic\""
EXPOSE 80/quic
# want DV1024 "apk installs openssh-server, a remote login server"
RUN apk add --no-cache openssh-server
# ok DV1024
RUN apk add --no-cache openssh-client
# want DV1025 "RUN --network=host runs this step"
RUN --network=host wget -q -O /dev/null http://localhost:8080/
# ok DV1025
RUN --network=none true
# want DV1023 "Port \"http\" is not a number"
EXPOSE http
# want DV1023 "Port range \"8000-80x\" is not numeric"
EXPOSE 8000-80x
# A version pin does not hide the package.
# want DV1024 "apt-get installs openssh-server, a remote login server"
RUN apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2
