# dockvet-test rules=DV1014,DV1015
# want DV1015 "mcr.microsoft.com/dotnet/sdk:8.0, which ships the .NET SDK"
FROM mcr.microsoft.com/dotnet/sdk:8.0
