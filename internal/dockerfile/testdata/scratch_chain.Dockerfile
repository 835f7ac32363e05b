# dockvet-test rules=DV1001
# ok DV1001
FROM scratch AS rootfs
COPY app /app
# The final stage is built on a stage built FROM scratch.
# want DV1001 "FROM scratch and sets no USER"
FROM rootfs
