# dockvet-test rules=DV1040,DV1041,DV1045,DV1048
ARG BASE=alpine:3.22
FROM ${BASE}
# A weak password: too plain for DV1040, still a credential.
# want DV1048 "ENV DB_PASSWORD is set to a literal credential \\(hu\\*\\*\\*\\*\\)"
# ok DV1040
ENV DB_PASSWORD=hunter2hunter2
# want DV1048 "ENV POSTGRES_PASSWORD is set to a literal credential \\(\\*\\*\\*\\*\\)"
ENV POSTGRES_PASSWORD=postgres
# want DV1048 "ARG ADMIN_TOKEN is set to a literal credential \\(op\\*\\*\\*\\*\\)"
# ok DV1041
ARG ADMIN_TOKEN=opensesame
# A strong literal is DV1040's, not a weak one as well.
# want DV1040 "ENV API_KEY holds a literal credential"
# ok DV1048
ENV API_KEY=q8Vh2Lr9TzX4mN7pK1sW6yB3cF5gJ0dA
# References, placeholders, encrypted values, flags, paths and other names
# are no credential.
# ok DV1048
ENV DB_PASSWORD=${DB_PASSWORD}
# ok DV1048
ENV API_TOKEN=change_me!
# ok DV1048
ENV API_TOKEN=<your-token>
# ok DV1048
ENV SECRET_KEY=xxxx
# ok DV1048
ENV REPO_PASSWORD={COQLCE6DU6GtcS5P=}
# ok DV1048
ENV MYSQL_ALLOW_EMPTY_PASSWORD=yes
# ok DV1048
ENV DB_PASSWORD_FILE=/run/secrets/db_password
# ok DV1048
ENV PASSWORD_MIN_LENGTH=12
# ok DV1048
ENV GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4
# ok DV1048
ARG NPM_TOKEN
# A GPG fingerprint in a shell variable named key is no credential.
# ok DV1045
RUN key='B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8'; gpg --batch --keyserver keyserver.ubuntu.com --recv-keys "$key"
# Quotes are removed as BuildKit removes them: the literal is still weak.
# want DV1048 "ENV SMTP_PASSWORD is set to a literal credential \\(mi\\*\\*\\*\\*\\)"
ENV SMTP_PASSWORD="mimimimi2024"
# A secret is reported where it is written; a value that refers to it is not
# reported again.
# want DV1041 "ARG DEPLOY_TOKEN holds"
ARG DEPLOY_TOKEN=Zt4rW9qLp2Xv8sKm3NbY6Hd1
# ok DV1040 DV1048
ENV API_TOKEN=${DEPLOY_TOKEN}
