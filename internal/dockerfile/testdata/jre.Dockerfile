# dockvet-test rules=DV1015
# ok DV1015
FROM eclipse-temurin:21-jre
