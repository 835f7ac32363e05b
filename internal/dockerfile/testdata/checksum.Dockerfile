# dockvet-test rules=DV1071
FROM debian:bookworm-slim AS build
# sha1sum -c, sha512sum -c and a checksum fed on standard input verify.
# ok DV1071
RUN curl -fsSLo wp.tgz https://wordpress.org/wordpress-6.7.tar.gz && echo "3f2a9c1e  *wp.tgz" | sha1sum -c - && tar -xzf wp.tgz
# ok DV1071
RUN wget -O node.tgz https://nodejs.org/dist/node.tgz && grep " node.tgz\$" SHASUMS256.txt | sha256sum -c - && tar -xzf node.tgz
# Comparing the digest in a test verifies.
# ok DV1071
RUN curl -fsSLo tool https://example.com/tool && [ "$(sha256sum tool | cut -d' ' -f1)" = "3f2a9c1e" ] && install tool /usr/local/bin/
# ok DV1071
RUN curl -fsSLo tool2 https://example.com/tool2 && [[ "$(openssl dgst -sha256 -r tool2 | cut -c1-64)" == "3f2a9c1e" ]] && install tool2 /usr/local/bin/
# minisign and signify check signatures.
# ok DV1071
RUN curl -fsSLo zig.tar.xz https://ziglang.org/zig.tar.xz && minisign -Vm zig.tar.xz -P RWSGOq2NVecA2UPNdBUZykf1CCb147pkmdtYxgb3Ti+JO/wCYvhbAb/U && tar -xJf zig.tar.xz
# Printing a digest checks nothing.
# want DV1071 "`curl` downloads https://example.com/tool3 and nothing verifies a checksum or signature before it is used"
RUN curl -fsSLo tool3 https://example.com/tool3 && sha256sum tool3 && install tool3 /usr/local/bin/
# The download is checked in a later RUN of the stage, before anything uses it.
# ok DV1071
RUN curl -fsSLo app.tgz https://example.com/app.tgz
RUN echo "3f2a9c1e  app.tgz" | sha256sum -c - && tar -xzf app.tgz
# Used in a later RUN before anything checks it.
# want DV1071 "`curl` downloads https://example.com/lib.tgz and nothing verifies"
RUN curl -fsSLo lib.tgz https://example.com/lib.tgz
RUN tar -xzf lib.tgz && echo "3f2a9c1e  lib.tgz" | sha256sum -c -
# A later RUN that checks something else does not check this file.
# want DV1071 "`curl` downloads https://example.com/data.bin and nothing verifies"
RUN curl -fsSLo data.bin https://example.com/data.bin
RUN curl -fsSLo other.tgz https://example.com/other.tgz && gpg --verify other.tgz.asc other.tgz
# A key file imported into a keyring, then exported by its full fingerprint.
# ok DV1071
RUN wget -O KEYS https://pgp.mongodb.com/server-8.0.asc && gpg --batch --import KEYS && gpg --batch --export --armor '4B0752C1BCA238C0B4EE14DC41DE058A4E7DCA05' > /etc/apt/keyrings/mongodb.asc && rm -rf KEYS
# Imported and used, with no fingerprint check.
# want DV1071 "`wget` downloads https://example.com/key.asc and nothing verifies"
RUN wget -O key.asc https://example.com/key.asc && gpg --batch --import key.asc && gpg --batch --export --armor > /etc/apt/keyrings/example.asc && apt-key add key.asc
# gpg --decrypt checks a signed file's signature.
# ok DV1071
RUN curl -fLo wp.gpg https://example.com/wp.phar.gpg && gpg --batch --decrypt --output /usr/local/bin/wp wp.gpg && chmod +x /usr/local/bin/wp
# A checksum written to a file that sha256sum -c reads.
# ok DV1071
RUN curl -fsSL https://example.com/jpm.jar -o /opt/jpm.jar && echo "$(curl -fsSL https://example.com/jpm.jar.sha256)  /opt/jpm.jar" > /tmp/jpm_sha && sha256sum -c --strict /tmp/jpm_sha
# A checksum list or a signature is what verifies; the binary is checked in
# a later RUN before anything uses it.
# ok DV1071
RUN curl -fsS https://dl.example.com/tool -o /go/bin/tool && curl -fsS https://dl.example.com/tool.minisig -o /go/bin/tool.minisig && curl -fsS https://dl.example.com/tool.sha256sum -o /go/bin/tool.sha256sum && chmod +x /go/bin/tool
RUN minisign -Vqm /go/bin/tool -x /go/bin/tool.minisig -P RWTx5Zr1tiHQLwG9keckT0c45M3AGeHD6IvimQHpyRywVWGbP1aVSGav
