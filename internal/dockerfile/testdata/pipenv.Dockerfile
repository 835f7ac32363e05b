# dockvet-test rules=DV1056
FROM python:3.13-slim
ENV PIP_NO_CACHE_DIR=1
# ok DV1056
RUN pip install flask==3.0.3
