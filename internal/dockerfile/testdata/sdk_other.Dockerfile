# dockvet-test rules=DV1014,DV1015
# An image named sdk that is not .NET's.
# ok DV1015
FROM registry.example.com/tools/sdk:1.4
