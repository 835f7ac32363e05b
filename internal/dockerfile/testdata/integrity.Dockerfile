# dockvet-test rules=DV1070,DV1071,DV1072,DV1073,DV1074,DV1075,DV1076
FROM debian:bookworm-slim
# want DV1070 "`curl` output is run by `sh` without verification"
RUN curl -fsSL https://get.example.com | sh
# want DV1070 "`wget` output is run by `bash` without verification"
RUN wget -qO- https://get.example.com | sudo -E bash -
# want DV1070 "`curl` output is run by `bash` without verification"
RUN bash -c "$(curl -fsSL https://get.example.com)"
# want DV1070 "`curl` output is run by `python3` without verification"
RUN python3 <(curl -fsSL https://x.example/install.py)
# ok DV1070
RUN sh -c "echo curl | sh"
# ok DV1070 DV1071
RUN curl -fsSL -o /tmp/install.sh https://get.example.com && echo "3b5c9a7e  /tmp/install.sh" | sha256sum -c - && sh /tmp/install.sh
# want DV1071 "`curl` downloads https://example.com/tool.tgz and nothing verifies a checksum or signature"
RUN curl -fsSLo /tmp/tool.tgz https://example.com/tool.tgz && tar -xzf /tmp/tool.tgz -C /usr/local/bin
# A password in the URL is shown masked in the message.
# want DV1071 "`curl` downloads https://deploy:Xq\\*\\*\\*\\*@files.acme-corp.io/a.tgz and nothing verifies"
RUN curl -fsSLo /tmp/a.tgz https://deploy:Xq9-Lm27vPz@files.acme-corp.io/a.tgz
# want DV1071 "`wget` downloads https://example.com/tool.tgz and nothing verifies a checksum or signature"
RUN wget -q https://example.com/tool.tgz
# want DV1071 "`curl` downloads https://example.com/tool.tgz and nothing verifies a checksum or signature"
RUN curl -fsSL https://example.com/tool.tgz | tar -xz -C /usr/local/bin
# ok DV1071
RUN curl -fsSL https://api.example.com/version | jq -r .version
# ok DV1071
RUN wget -q https://example.com/tool.tgz && gpg --verify tool.tgz.asc tool.tgz && tar -xzf tool.tgz
# want DV1072 "ADD https://example.com/app.tar.gz downloads without a checksum"
ADD https://example.com/app.tar.gz /opt/
# ok DV1072
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/app.tar.gz /opt/
# want DV1072 "ADD https://github.com/acme/tool.git#main downloads without a checksum"
ADD https://github.com/acme/tool.git#main /src/tool
# ok DV1072
ADD https://github.com/acme/tool.git#9f1c2b6a6c1e4f0d8a2b3c4d5e6f708192a3b4c5 /src/tool
# want DV1073 "curl -k/--insecure turns off TLS"
RUN curl -ksS https://internal.example/status
# want DV1073 "wget --no-check-certificate turns off TLS"
RUN wget --no-check-certificate -qO- https://internal.example/status
# want DV1073 "pip --trusted-host turns off TLS"
RUN pip install --no-cache-dir --trusted-host pypi.internal -i https://pypi.internal/simple app==1.0
# want DV1073 "git http.sslVerify=false turns off TLS"
RUN git -c http.sslVerify=false clone https://git.internal/app.git
# want DV1073 "npm config set strict-ssl false turns off TLS"
RUN npm config set strict-ssl false
# want DV1073 "NODE_TLS_REJECT_UNAUTHORIZED=0 turns off TLS"
RUN NODE_TLS_REJECT_UNAUTHORIZED=0 node fetch.js
# ok DV1073
RUN curl -fsS --cacert /etc/ssl/internal-ca.pem https://internal.example/status
# ok DV1073
RUN git config --global http.sslVerify true
# want DV1074 "ENV GIT_SSL_NO_VERIFY=1 turns off TLS"
ENV GIT_SSL_NO_VERIFY=1
# want DV1074 "ENV NODE_TLS_REJECT_UNAUTHORIZED=0 turns off TLS"
ENV NODE_TLS_REJECT_UNAUTHORIZED=0
# ok DV1074
ENV NODE_TLS_REJECT_UNAUTHORIZED=1 GIT_SSL_NO_VERIFY=false
# want DV1075 "apt-get --allow-unauthenticated/--force-yes installs packages without verifying"
RUN apt-get install -y --allow-unauthenticated curl
# want DV1075 "apk --allow-untrusted installs packages without verifying"
RUN apk add --no-cache --allow-untrusted /tmp/pkg.apk
# want DV1075 "dnf --nogpgcheck installs packages without verifying"
RUN dnf install -y --nogpgcheck nginx
# want DV1075 "rpm --nosignature/--nodigest installs packages without verifying"
RUN rpm -i --nosignature /tmp/app.rpm
# want DV1075 "an apt source marked \\[trusted=yes\\] installs packages without verifying"
RUN echo "deb [trusted=yes] http://repo.internal/ stable main" > /etc/apt/sources.list.d/internal.list
# A local repository of packages this RUN built: reported, at low severity.
RUN tempDir="$(mktemp -d)" && cd "$tempDir" && apt-get source --compile hello && dpkg-scanpackages . > Packages \
# want DV1075 "A local file: apt repository built by this RUN is marked \\[trusted=yes\\]"
    && echo "deb [ trusted=yes ] file://$tempDir ./" > /etc/apt/sources.list.d/temp.list \
    && apt-get update && apt-get install -y hello
# want DV1075 "ENV GOSUMDB=off turns off checksum verification"
ENV GOSUMDB=off
# ok DV1075
RUN rpm --import https://repo.example/key.asc && rpm -i /tmp/app.rpm
# ok DV1075
RUN echo "deb [signed-by=/etc/apt/keyrings/internal.gpg] https://repo.internal/ stable main" > /etc/apt/sources.list.d/internal.list
# want DV1076 "pip -i http://pypi.internal/simple fetches packages"
RUN pip install --no-cache-dir -i http://pypi.internal/simple app==1.0
# want DV1076 "npm --registry http://npm.internal/ fetches packages"
RUN npm install --registry http://npm.internal/ app@1.0.0
# want DV1076 "ENV PIP_INDEX_URL=http://pypi.internal/simple makes later installs"
ENV PIP_INDEX_URL=http://pypi.internal/simple
# ok DV1076
RUN pip install --no-cache-dir -i https://pypi.internal/simple app==1.0
# ok DV1076
ENV PIP_INDEX_URL=http://localhost:3141/root/pypi
# The URL is in a variable: the message says "a file".
# want DV1071 "`curl` downloads a file and nothing verifies a checksum or signature"
RUN curl -fsSLO "$TOOL_URL" && tar -xzf tool.tgz
# want DV1071 "`aria2c` downloads https://example.com/big.iso and nothing verifies a checksum or signature"
RUN aria2c https://example.com/big.iso
# Verified with cosign, with openssl dgst, with a provenance verifier.
# ok DV1071
RUN curl -fsSLo app.tgz https://example.com/app.tgz && cosign verify-blob --key k.pub --signature app.tgz.sig app.tgz && tar xzf app.tgz
# ok DV1071
RUN curl -fsSLo app.tgz https://example.com/app.tgz && openssl dgst -sha256 -verify k.pub -signature app.tgz.sig app.tgz && tar xzf app.tgz
# ok DV1071
RUN curl -fsSLo app.tgz https://example.com/app.tgz && slsa-verifier verify-artifact app.tgz --provenance-path app.intoto.jsonl --source-uri github.com/acme/app && tar xzf app.tgz
# ok DV1071
RUN wget -qO- https://api.example.com/version
# want DV1072 "ADD git@github.com:acme/tool.git downloads without a checksum"
ADD git@github.com:acme/tool.git /src/tool
# ok DV1072
ADD rootfs.tar.gz /
# want DV1073 "npm --strict-ssl=false turns off TLS"
RUN npm install --strict-ssl=false app@1.0.0
# want DV1073 "git config http.sslVerify false turns off TLS"
RUN git config --global http.sslVerify false
# want DV1073 "helm --insecure-skip-tls-verify turns off TLS"
RUN helm repo add internal https://charts.internal --insecure-skip-tls-verify
# want DV1073 "conda ssl_verify false turns off TLS"
RUN conda config --set ssl_verify false
# want DV1073 "dnf --setopt=sslverify=false turns off TLS"
RUN dnf install -y --setopt=sslverify=false nginx
# want DV1073 "PYTHONHTTPSVERIFY=0 turns off TLS"
RUN export PYTHONHTTPSVERIFY=0 && python3 fetch.py
# ok DV1073
RUN conda config --set ssl_verify true
# want DV1074 "ENV PIP_TRUSTED_HOST=pypi.internal turns off TLS"
ENV PIP_TRUSTED_HOST=pypi.internal
# want DV1074 "ENV NPM_CONFIG_STRICT_SSL=false turns off TLS"
ENV NPM_CONFIG_STRICT_SSL=false
# want DV1074 "ENV GOINSECURE=git.internal turns off TLS"
ENV GOINSECURE=git.internal
# want DV1074 "ENV CURL_INSECURE=1 turns off TLS"
ENV CURL_INSECURE=1
# ok DV1074
ENV PYTHONHTTPSVERIFY=1 CURL_INSECURE=0 GOINSECURE=
# want DV1075 "apt-get -o Acquire::AllowInsecureRepositories=true installs packages without verifying"
RUN apt-get -o Acquire::AllowInsecureRepositories=true update
# want DV1075 "yum --setopt=gpgcheck=0 installs packages without verifying"
RUN yum install -y --setopt=gpgcheck=0 httpd
# want DV1075 "dpkg --force-bad-verify installs packages without verifying"
RUN dpkg --force-bad-verify -i /tmp/app.deb
# want DV1075 "dpkg --force-bad-verify installs packages without verifying"
RUN dpkg --force=bad-verify -i /tmp/app.deb
# want DV1075 "gem --trust-policy NoSecurity installs packages without verifying"
RUN gem install app -v 1.0 -P NoSecurity
# want DV1075 "GOSUMDB=off installs packages without verifying"
RUN GOSUMDB=off go mod download
# want DV1075 "ENV GONOSUMDB=\\* turns off checksum verification"
ENV GONOSUMDB=*
# want DV1075 "ENV GOFLAGS=-insecure turns off checksum verification"
ENV GOFLAGS=-insecure
# ok DV1075
ENV GOSUMDB=sum.golang.org GONOSUMDB=git.internal/* GOFLAGS=-mod=mod
# want DV1076 "npm config set registry http://npm.internal/ fetches packages"
RUN npm config set registry http://npm.internal/
# want DV1076 "gem --source http://gems.internal/ fetches packages"
RUN gem install app -v 1.0 --source http://gems.internal/
# want DV1076 "PIP_INDEX_URL=http://pypi.internal/simple fetches packages"
RUN PIP_INDEX_URL=http://pypi.internal/simple pip install --no-cache-dir app==1.0
# ok DV1076
RUN npm config set registry https://npm.internal/ && gem install app -v 1.0 --source https://gems.internal/
