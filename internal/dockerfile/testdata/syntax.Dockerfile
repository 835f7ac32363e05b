# dockvet-test rules=DV1121,DV1070,DV1045
# A RUN its shell would refuse: reported at the line of the error, and no
# rule sees its commands (the pipe to a shell below goes unseen).
FROM alpine:3.22
# want DV1121 "^RUN: the script does not parse as shell \\(`if` statement must end with `fi`\\), so the build stops here and no rule analysed its commands\\.$"
RUN if [ -f /etc/alpine-release ]; then curl -fsSL https://x.example/i.sh | sh
# ok DV1121
RUN if [ -f /etc/alpine-release ]; then echo alpine; fi
# The error is on the RUN's third line.
RUN apk add --no-cache curl && \
    echo ready && \
    echo "unclosed
# want@-1 DV1121 "reached EOF without closing quote"
# ok DV1121
RUN [ "sh", "-c", "echo exec form" ]
# A syntax error does not hide a token: the lines are read for secrets.
# want DV1121 "does not parse as shell"
RUN if true; then \
      curl -H "Authorization: token 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" https://x.example/
# want@-1 DV1045 "^RUN holds a GitHub personal access token \\(classic\\) on its command line \\(ghp_\\*\\*\\*\\*\\); its commands were not analysed \\(its script does not parse as shell\\)\\.$"
# ok DV1045
RUN if true; then curl -fsS https://x.example/; fi
# A Windows base: cmd runs the line, not sh.
FROM mcr.microsoft.com/windows/servercore:ltsc2022
# ok DV1121
RUN & C:/ProgramData/install.ps1
# A base dockvet cannot tell is Windows, with hadolint's shell comment.
FROM ci-windows-builder
# hadolint shell=powershell
# ok DV1121
RUN & C:/ProgramData/install.ps1
# The same in dockvet's spelling.
FROM ci-windows-builder
# dockvet shell=pwsh
# ok DV1121
RUN & C:/ProgramData/install.ps1
# Without either, the line is read as sh would read it.
FROM ci-windows-builder
# want DV1121 "`&` can only immediately follow a statement"
RUN & C:/ProgramData/install.ps1
# A SHELL that is not a POSIX shell.
FROM alpine:3.22
SHELL ["pwsh", "-Command"]
# ok DV1121 DV1045
RUN & ./install.ps1
# want DV1045 "\\(its shell is not a POSIX shell\\)"
RUN Invoke-WebRequest -Headers @{Authorization="token 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"} https://x.example/
# A here-document for another interpreter.
FROM python:3.13-alpine
# ok DV1121
RUN <<PY
#!/usr/bin/env python3
print("if without fi" if True else ")")
PY
# ok DV1121
RUN <<PY
#!/usr/bin/env python3
import urllib.request
urllib.request.urlopen(urllib.request.Request("https://x.example/", headers={"Authorization": "token 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"}))
PY
# want@-2 DV1045 "\\(its here-document is for another interpreter\\)"
# zsh reads what bash does not: the parser's refusal may be its own.
FROM alpine:3.22
SHELL ["/bin/zsh", "-c"]
# ok DV1121
RUN for x (a b) echo $x
FROM alpine:3.22
# ok DV1121
RUN <<SCRIPT
#!/usr/bin/env zsh
for x (a b) echo $x
SCRIPT
# The same under sh is refused.
# want DV1121 "does not parse as shell"
RUN for x (a b) echo $x
