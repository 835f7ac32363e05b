# dockvet-test rules=DV1001
# want DV1001 "FROM scratch and sets no USER, so its process runs as uid 0"
FROM scratch
COPY app /app
