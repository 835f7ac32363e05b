# dockvet-test rules=DV1105,DV1107,DV1108,DV1109,DV1110,DV1111,DV1112
FROM debian:bookworm-slim
# want DV1107 "`apt-get install` has no non-interactive flag"
RUN apt-get install curl=8.5.0-2
# ok DV1107 DV1108
RUN apt-get install -y curl=8.5.0-2
# ok DV1107
RUN apt-get -qq install curl=8.5.0-2
# ok DV1107
RUN yes | apt-get install curl=8.5.0-2
# want DV1107 "`yum install` has no non-interactive flag"
RUN yum install httpd-2.4.57
# want DV1107 "`zypper install` has no non-interactive flag"
RUN zypper install nginx=1.21
# ok DV1107
RUN zypper -n install nginx=1.21
# want DV1108 "`apt install` in a script"
RUN apt install -y curl=8.5.0-2
# want DV1109 "`apt-get install` installs curl without a version"
RUN apt-get install -y curl
# ok DV1109
RUN apt-get install -y -t bookworm-backports curl
# want DV1109 "`apk add` installs curl without a version"
RUN apk add --no-cache curl
# ok DV1109
RUN apk add --no-cache curl=8.14.1-r1 ./local.apk "$EXTRA"
# want DV1109 "`dnf install` installs nginx without a version"
RUN dnf install -y nginx
# ok DV1109
RUN dnf install -y nginx-1.24.0
# want DV1110 "`pip install` installs requests without a pinned version"
RUN pip install --no-cache-dir requests
# ok DV1110
RUN pip install --no-cache-dir requests==2.32.3 -r requirements.txt
# want DV1110 "`npm install` installs pnpm without a pinned version"
RUN npm install -g pnpm
# ok DV1110
RUN npm install -g pnpm@9.1.0
# want DV1110 "`go install` installs golang.org/x/tools/cmd/goimports@latest without a pinned version"
RUN go install golang.org/x/tools/cmd/goimports@latest
# ok DV1110
RUN go install golang.org/x/tools/cmd/goimports@v0.25.0
# want DV1110 "`gem install` installs bundler without a pinned version"
RUN gem install bundler
# ok DV1110
RUN gem install bundler -v 2.5.10
# want DV1105 "`npm install` resolves dependencies anew"
RUN npm install
# ok DV1105
RUN npm ci --omit=dev
# want DV1111 "`apt-get update` runs without an install"
RUN apt-get update
# ok DV1111
RUN apt-get update && apt-get install -y curl=8.5.0-2
# want DV1111 "`apk update` runs without an install"
RUN apk update
# want DV1112 "`apt-get dist-upgrade` upgrades the whole distribution"
RUN apt-get update && apt-get dist-upgrade -y
# ok DV1112
RUN apt-get update && apt-get install -y --only-upgrade openssl=3.0.15-1
# want DV1107 "`dnf install` has no non-interactive flag"
RUN dnf install nginx-1.24.0
# ok DV1107
RUN apt-get -o APT::Get::Assume-Yes=true install curl=8.5.0-2
# want DV1109 "`zypper install` installs nginx without a version"
RUN zypper -n install nginx
# ok DV1109
RUN zypper -n install nginx=1.21 && apt-get install -y curl/bookworm-backports
# want DV1110 "`cargo install` installs ripgrep without a pinned version"
RUN cargo install ripgrep
# ok DV1110
RUN cargo install ripgrep --version 14.1.0 && cargo install --locked fd-find
# want DV1110 "`yarn global` installs typescript without a pinned version"
RUN yarn global add typescript
# Naming a package adds its latest release to package.json and the lock file.
# want DV1110 "`npm install` installs left-pad without a pinned version"
RUN npm install left-pad
# want DV1111 "`yum makecache` runs without an install"
RUN yum makecache
# want DV1111 "`zypper refresh` runs without an install"
RUN zypper refresh
# An upgrade in the same RUN uses the fresh index.
# ok DV1111
# A plain upgrade applies the release's own updates.
# ok DV1112
RUN apt-get update && apt-get upgrade -y
# A long list is cut short in the message.
# want DV1109 "`apt-get install` installs curl, git, jq, make and 2 more without a version"
RUN apt-get install -y curl git jq make unzip zip
