# escape=`
# dockvet-test rules=DV1001,DV1002,DV1005,DV1095,DV1097,DV1098,DV1102,DV1104,DV1117,DV1096
# A Windows image: its users, paths and shells are not Linux's.
# ok DV1001
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
# PowerShell, not a POSIX shell: no pipe, cd or pipefail rules.
# ok DV1104 DV1098
RUN Invoke-WebRequest -Uri https://example.com/x.zip -OutFile C:\x.zip | Out-Null; cd C:\app
# A trailing backslash is a directory on Windows.
# ok DV1102
COPY a.dll b.dll C:\Windows\System32\
# ok DV1097 DV1096
WORKDIR C:\Windows
# ok DV1117
COPY c.dll app\
# ok DV1005 DV1002
USER ContainerUser
# ok DV1095
CMD powershell -File C:\app\run.ps1
