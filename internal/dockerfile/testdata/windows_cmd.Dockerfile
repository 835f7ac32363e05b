# dockvet-test rules=DV1001,DV1104,DV1098,DV1107
# A nanoserver image runs RUN under cmd /S /C unless SHELL says otherwise.
# ok DV1001
FROM mcr.microsoft.com/windows/nanoserver:ltsc2022
# ok DV1104 DV1098 DV1107
RUN cd C:\app && type x.txt | findstr apt-get install foo
