# dockvet-test rules=DV1020,DV1021,DV1022,DV1023,DV1024,DV1025,DV1026
FROM alpine:3.22 AS build
# ok DV1020
EXPOSE 22
FROM alpine:3.22
# want DV1020
EXPOSE 22/tcp 8080
# want DV1021
EXPOSE 2375
# want DV1020 DV1021 DV1022 DV1026
EXPOSE 20-3306
# ok DV1020 DV1021 DV1022 DV1023 DV1026
EXPOSE 8080 443/udp ${PORT}
# want DV1022
EXPOSE 5432
# want DV1026
EXPOSE 2379 2380
# want DV1023
EXPOSE 70000
# want DV1023
EXPOSE 80/quic
# want DV1024
RUN apk add --no-cache openssh-server
# ok DV1024
RUN apk add --no-cache openssh-client
# want DV1025
RUN --network=host wget -q -O /dev/null http://localhost:8080/
# ok DV1025
RUN --network=none true
