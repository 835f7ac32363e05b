# dockvet-test rules=DV1105,DV1107,DV1108,DV1109,DV1110,DV1111,DV1112
FROM debian:bookworm-slim
# want DV1107
RUN apt-get install curl=8.5.0-2
# ok DV1107 DV1108
RUN apt-get install -y curl=8.5.0-2
# ok DV1107
RUN apt-get -qq install curl=8.5.0-2
# ok DV1107
RUN yes | apt-get install curl=8.5.0-2
# want DV1107
RUN yum install httpd-2.4.57
# want DV1107
RUN zypper install nginx=1.21
# ok DV1107
RUN zypper -n install nginx=1.21
# want DV1108
RUN apt install -y curl=8.5.0-2
# want DV1109
RUN apt-get install -y curl
# ok DV1109
RUN apt-get install -y -t bookworm-backports curl
# want DV1109
RUN apk add --no-cache curl
# ok DV1109
RUN apk add --no-cache curl=8.14.1-r1 ./local.apk "$EXTRA"
# want DV1109
RUN dnf install -y nginx
# ok DV1109
RUN dnf install -y nginx-1.24.0
# want DV1110
RUN pip install --no-cache-dir requests
# ok DV1110
RUN pip install --no-cache-dir requests==2.32.3 -r requirements.txt
# want DV1110
RUN npm install -g pnpm
# ok DV1110
RUN npm install -g pnpm@9.1.0
# want DV1110
RUN go install golang.org/x/tools/cmd/goimports@latest
# ok DV1110
RUN go install golang.org/x/tools/cmd/goimports@v0.25.0
# want DV1110
RUN gem install bundler
# ok DV1110
RUN gem install bundler -v 2.5.10
# want DV1105
RUN npm install
# ok DV1105
RUN npm ci --omit=dev
# want DV1111
RUN apt-get update
# ok DV1111
RUN apt-get update && apt-get install -y curl=8.5.0-2
# want DV1111
RUN apk update
# want DV1112
RUN apt-get update && apt-get dist-upgrade -y
# ok DV1112
RUN apt-get update && apt-get install -y --only-upgrade openssl=3.0.15-1
