# dockvet-test rules=DV1056
FROM python:3.13-slim
# ok DV1056
RUN export PIP_NO_CACHE_DIR=1 && pip install flask==3.0.3
# pipx and pipenv are not pip and keep no pip cache.
# ok DV1056
RUN pipx install black==24.1.0 && pipenv install
# A variable set in the shell but not exported is not pip's environment.
# want DV1056 "`pip install` without --no-cache-dir"
RUN PIP_NO_CACHE_DIR=1; pip install flask==3.0.3
