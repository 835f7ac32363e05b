# dockvet-test rules=DV1040,DV1041,DV1042,DV1043,DV1045,DV1046
FROM alpine:3.22
# want DV1040 "ENV GITHUB_TOKEN holds a literal credential \\(ghp_\\*\\*\\*\\*\\)"
ENV GITHUB_TOKEN=ghp_Xr7kQ2mN9pL4vB8cT1wZ6yH3sJ5dF0gA2eK7
# want DV1040 "ENV DB_PASSWORD holds a literal credential \\(s3\\*\\*\\*\\*\\)"
ENV DB_PASSWORD="s3cr3t-Pa55w0rd"
# ok DV1040
ENV DB_PASSWORD_FILE=/run/secrets/db_password
# ok DV1040
ENV API_TOKEN=changeme
# ok DV1040
ENV DATABASE_URL=postgres://app@db:5432/app
# ok DV1040
ENV GPG_KEY=0D96DF4D4110E5C43FBFB17F2D347EA6AA65421D
# ok DV1040
ENV SECRET_KEY=${SECRET_KEY}
# ok DV1040
ENV PYTHON_VERSION=3.12.1 TOKEN_TTL=3600
ENV A=1 \
# want DV1040 "ENV AWS_SECRET_ACCESS_KEY holds an AWS secret access key \\(q8Vh\\*\\*\\*\\*\\)"
    AWS_SECRET_ACCESS_KEY=q8Vh2Lr9TzX4mN7pK1sW6yB3cF5gJ0dA+eR2uI9o
# want DV1041 "ARG NPM_TOKEN holds an npm access token \\(npm_\\*\\*\\*\\*\\)"
ARG NPM_TOKEN=npm_a8Bc3dE7fG1hJ5kL9mN2pQ6rS0tU4vW8xY1z
# ok DV1041 DV1042
ARG APP_VERSION=1.2.3
# want DV1042 "ARG PIP_PASSWORD is a secret passed"
ARG PIP_PASSWORD
# ok DV1042
ARG SIGNING_KEY_PATH
# Nothing uses it, but it still asks for a secret on the command line.
# want DV1042 "ARG UNUSED_TOKEN asks for a secret as a build argument"
ARG UNUSED_TOKEN
RUN pip install --index-url "https://user:${PIP_PASSWORD}@pypi.internal/simple" app && echo $SIGNING_KEY_PATH
# want DV1043 "LABEL com.example.deploy-token holds a GitLab personal access token \\(glpa\\*\\*\\*\\*\\)"
LABEL com.example.deploy-token="glpat-Zq8Xw2Ep5Rt9Yu3Io7Pa"
# ok DV1043
LABEL org.opencontainers.image.source="https://github.com/acme/app"
# want DV1045 "`curl` is given a literal credential.*\\(Su\\*\\*\\*\\*\\)"
RUN curl -u admin:Sup3rS3cretPw https://repo.example/file -o /tmp/f
# ok DV1045
RUN curl -u "admin:$REPO_PASSWORD" https://repo.example/file -o /tmp/f
# want DV1045 "`mysql` is given a literal credential.*\\(S3\\*\\*\\*\\*\\)"
RUN mysql -uroot -pS3cr3tPassw0rd -e "select 1"
# ok DV1045
RUN mysql -uroot -p -e "select 1"
# want DV1045 "`git` is given a password in a URL.*\\(ghp_\\*\\*\\*\\*\\)"
RUN git clone https://deploy:ghp_Xr7kQ2mN9pL4vB8cT1wZ6yH3sJ5dF0gA2eK7@github.com/acme/private.git
# ok DV1045
RUN git clone https://github.com/acme/public.git
# want DV1046 "`npm config set //registry.npmjs.org/:_authToken` writes a registry token to .npmrc"
RUN --mount=type=secret,id=npm,env=NPM_TOKEN npm config set //registry.npmjs.org/:_authToken "$NPM_TOKEN" && npm ci
# ok DV1046
RUN --mount=type=secret,id=npm,env=NPM_TOKEN npm config set //registry.npmjs.org/:_authToken "$NPM_TOKEN" && npm ci && rm -f /root/.npmrc
# want DV1046 "`docker login` writes the registry credential to config.json"
RUN --mount=type=secret,id=pw docker login -u ci --password-stdin < /run/secrets/pw
# ok DV1046
RUN --mount=type=secret,id=pw docker login -u ci --password-stdin < /run/secrets/pw && docker pull x && docker logout
# want DV1046 "`ssh-keygen` generates a private key inside the image, the same for every container"
RUN ssh-keygen -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
# ok DV1046
RUN ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub
# want DV1046 "`echo` writes /root/.netrc, a credential file"
RUN echo "machine github.com login x password $TOKEN" > /root/.netrc
# ok DV1046
RUN echo "npm is configured by a secret mount" > /etc/motd
# A build argument used in a here-document.
# want DV1042 "ARG API_TOKEN is a secret passed as a build argument and used by the RUN on line 69"
ARG API_TOKEN
RUN <<EOF
curl -fsS -H "Authorization: Bearer $API_TOKEN" https://api.example/deploy
EOF
# The default is a literal secret: DV1041 reports the value, not its use.
# want DV1041 "ARG DEPLOY_TOKEN holds a literal credential"
# ok DV1042
ARG DEPLOY_TOKEN=ghp_Xr7kQ2mN9pL4vB8cT1wZ6yH3sJ5dF0gA2eK7
RUN curl -fsS -H "Authorization: token $DEPLOY_TOKEN" https://api.example/deploy
# want DV1045 "`make` is given a literal credential.*\\(ghp_\\*\\*\\*\\*\\)"
RUN GITHUB_TOKEN=ghp_Xr7kQ2mN9pL4vB8cT1wZ6yH3sJ5dF0gA2eK7 make release
# echo passes its argument, not a literal, to the login.
# ok DV1045
RUN echo "$REGISTRY_PASSWORD" | docker login -u ci --password-stdin registry.example && docker logout registry.example
# A user without a password makes curl prompt.
# ok DV1045
RUN curl -u admin https://repo.example/file -o /tmp/f
# want DV1045 "`htpasswd` is given a literal credential.*\\(Ad\\*\\*\\*\\*\\)"
RUN htpasswd -b -c /etc/nginx/.htpasswd admin Adm1nPassw0rd7
# want DV1045 "`aws` is given an AWS secret access key.*\\(q8Vh\\*\\*\\*\\*\\)" DV1046 "`aws configure set aws_secret_access_key` writes the key to ~/.aws/credentials"
RUN aws configure set aws_secret_access_key q8Vh2Lr9TzX4mN7pK1sW6yB3cF5gJ0dA+eR2uI9o
# want DV1045 "`npm` is given a registry password in .npmrc.*\\(S3\\*\\*\\*\\*\\)" DV1046 "`npm config set _password` writes a registry token to .npmrc"
RUN npm config set _password S3cr3tPassw0rd9
# want DV1045 "`npm` is given a literal credential.*\\(Qx\\*\\*\\*\\*\\)" DV1046 "`npm config set _auth` writes a registry token to .npmrc"
RUN npm config set _auth=Qx7vLp2mZ9wKd3
# want DV1046 "`git config credential.helper store` saves Git credentials in plain text"
RUN git config --global credential.helper store
# ok DV1046
RUN git config --global credential.helper store && git clone https://git.example/app.git && rm /root/.git-credentials
# want DV1046 "`gcloud auth activate-service-account` stores the service-account key in ~/.config/gcloud"
RUN --mount=type=secret,id=gcp,target=/run/secrets/gcp.json gcloud auth activate-service-account --key-file=/run/secrets/gcp.json
# want DV1046 "`az login` stores tokens in ~/.azure"
RUN --mount=type=secret,id=az,env=AZ_SECRET az login --service-principal -u "$AZ_APP" -p "$AZ_SECRET" --tenant "$AZ_TENANT"
# ok DV1046
RUN --mount=type=secret,id=az,env=AZ_SECRET az login --service-principal -u "$AZ_APP" -p "$AZ_SECRET" --tenant "$AZ_TENANT" && az acr build . && rm -rf /root/.azure
# want DV1046 "`doctl auth init` stores the access token"
RUN --mount=type=secret,id=do,env=DIGITALOCEAN_ACCESS_TOKEN doctl auth init
# want DV1046 "`helm login` writes the registry credential to config.json"
RUN --mount=type=secret,id=pw helm registry login registry.example -u ci --password-stdin < /run/secrets/pw
# want DV1046 "`openssl genrsa` generates a private key inside the image"
RUN openssl genrsa -out /etc/app/server.key 4096
# ok DV1046
RUN openssl genrsa -out /tmp/ca.key 4096 && openssl req -x509 -new -key /tmp/ca.key -subj /CN=ca -out /etc/app/ca.crt && rm /tmp/ca.key
# Reading a credential file does not write one.
# ok DV1046
RUN cat < /root/.netrc > /dev/null
# A build argument an ENV copies stays in the image configuration.
# want DV1042 "ARG REGISTRY_TOKEN is a secret passed as a build argument and copied by the ENV on line 117"
ARG REGISTRY_TOKEN
ENV REGISTRY_TOKEN=$REGISTRY_TOKEN
# An access key ID comes with its secret half.
# want DV1042 "ARG AWS_ACCESS_KEY_ID asks for a secret as a build argument"
ARG AWS_ACCESS_KEY_ID
# ok DV1042
ARG AWS_REGION
# Jenkins credentials bind NAME_USR and NAME_PSW: the password is a secret.
# want DV1042 "ARG ARTIFACTORY_PSW asks for a secret as a build argument"
ARG ARTIFACTORY_PSW
# ok DV1042
ARG ARTIFACTORY_USR
