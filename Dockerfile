# syncd: the sync service. Build: docker build -t syncd .
# Run:   docker run -p 8080:8080 -v $PWD/config.toml:/etc/syncd/config.toml:ro \
#          -e SYNCD_CONNECTORS__JIRA__API_TOKEN=... syncd
# tests/test_container.py runs the install and start commands below (the lines marked
# "test:") in a fresh virtual environment, since no container engine runs in CI.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncd ./syncd
COPY connectors ./connectors
COPY mappings ./mappings
# test: build
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 syncd \
    && mkdir -p /var/lib/syncd /etc/syncd && chown syncd /var/lib/syncd
COPY --from=build /wheels /wheels
# test: install
RUN python -m venv /opt/syncd && /opt/syncd/bin/pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV PATH=/opt/syncd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SYNCD_API__HOST=0.0.0.0 \
    SYNCD_API__PORT=8080 \
    SYNCD_STORE_URL=sqlite:////var/lib/syncd/syncd.sqlite3
USER syncd
WORKDIR /var/lib/syncd
EXPOSE 8080
# test: healthcheck
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"
# test: start
CMD ["syncd", "serve"]
