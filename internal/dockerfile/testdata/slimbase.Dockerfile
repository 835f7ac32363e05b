# dockvet-test rules=DV1014,DV1015
# ok DV1014
FROM python:3.13-slim
