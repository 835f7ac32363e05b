# dockvet-test rules=DV1109,DV1110
FROM python:3.13-slim AS py
# A Git branch moves; a commit or a release tag does not.
# want DV1110 "`pip install` installs git\\+https://github.com/acme/tool.git@main without a pinned version"
RUN pip install --no-cache-dir git+https://github.com/acme/tool.git@main
# want DV1110 "`pip install` installs git\\+ssh://git@github.com/acme/tool.git#egg=tool without a pinned version"
RUN pip install --no-cache-dir git+ssh://git@github.com/acme/tool.git#egg=tool
# ok DV1110
RUN pip install --no-cache-dir git+https://github.com/acme/tool.git@3f2a9c1e7b4d && pip install --no-cache-dir "git+https://github.com/acme/lib.git@v1.4.2#egg=lib"
# Values of options are not packages; a constraints file pins.
# ok DV1110
RUN pip install --no-cache-dir --root-user-action ignore -i https://pypi.internal/simple poetry==1.8.5
# ok DV1110
RUN pip install --no-cache-dir -c constraints.txt flask requests
# want DV1110 "`pip install` installs mypkg without a pinned version"
RUN pip install --no-cache-dir --root-user-action=ignore mypkg
# A path with a separator is a local directory.
# ok DV1110
RUN pip install --no-cache-dir tools/cli
# pipx installs from an index too; pipenv installs its lock file.
# want DV1110 "`pipx install` installs black without a pinned version"
RUN pipx install black
# ok DV1110
RUN pipx install --python python3.12 "poetry==1.8.5" && pipenv install black
FROM node:22-slim AS js
# want DV1110 "`npm install` installs git\\+ssh://git@github.com:npm/npm.git without a pinned version"
RUN npm install git+ssh://git@github.com:npm/npm.git
# ok DV1110
RUN npm install --loglevel verbose --registry https://registry.internal sax@0.1.1 "git+https://github.com/npm/npm.git#v1.4.2"
FROM ruby:3.4-slim AS rb
# want DV1110 "`gem i` installs bundler without a pinned version"
RUN gem i bundler
# Arguments after -- are the gem's build options.
# ok DV1110
RUN gem install bundler:2.0.1 -- --use-system-libraries=true
FROM golang:1.26 AS go
# `go run` of a module fetches it like `go install`.
# want DV1110 "`go run` installs example.com/gen without a pinned version"
RUN go run example.com/gen
# ok DV1110
RUN go run . && go run ./cmd/tool && go run example.com/gen@v1.2.0
FROM fedora:42 AS rpm
ARG GIT_VERSION=2.51.0-2.fc42
# A version from an ARG or ENV of the stage is a version.
# ok DV1109
RUN dnf -y install git-core-${GIT_VERSION}
# A module needs its stream; a group has no version.
# want DV1109 "`dnf module install` installs tomcat without a version"
RUN dnf module install -y tomcat
# ok DV1109
RUN dnf module install -y tomcat:9 && dnf group install -y "Development Tools"
FROM fedora:42
# The ARG is declared in another stage: here it is empty.
# want DV1109 "`yum install` installs git-core-\\$\\{GIT_VERSION\\} without a version"
RUN yum -y install git-core-${GIT_VERSION}
# A version from the base image's environment (not declared here) is a version.
# ok DV1109
RUN yum -y install "nodejs-$NODE_VERSION"
FROM alpine:3.22
# ok DV1109
RUN apk add --no-cache ./mypackage-1.1.1.apk mypackage-1.1.1.apk
