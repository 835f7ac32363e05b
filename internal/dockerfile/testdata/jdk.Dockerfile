# dockvet-test rules=DV1015
# want DV1015
FROM eclipse-temurin:21-jdk
