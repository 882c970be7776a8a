# Stand-in for python:3.11-slim: Debian trixie's Python 3 in a virtual environment first on
# PATH, so `python` and `python -m pip install` behave as in the official image (Debian's own
# interpreter refuses pip installs, PEP 668).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /usr/local/python
ENV PATH=/usr/local/python/bin:$PATH
CMD ["python"]
