# dockvet-test rules=DV1001,DV1014,DV1015
# want DV1001 "FROM scratch and sets no USER, so its process runs as uid 0"
# ok DV1014 DV1015
FROM scratch
COPY app /app
