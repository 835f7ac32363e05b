# dockvet-test rules=DV1001
# want DV1001
FROM scratch
COPY app /app
