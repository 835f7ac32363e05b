# dockvet-test rules=DV1015
# want DV1015 "eclipse-temurin:21-jdk, which ships a full JDK"
FROM eclipse-temurin:21-jdk
