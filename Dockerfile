# One image, two entrypoints: `meeting-controller run` (an MC pod) and
# `meeting-controller operator` (the operator Deployment).

# -- build: a wheel and its dependencies, compiled where needed ----------------------------------
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY controller ./controller
COPY operator ./operator
RUN pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir .

# -- runtime: the virtual environment only, as a non-root user -----------------------------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 mc \
 && useradd --system --uid 10001 --gid mc --home-dir /nonexistent --shell /usr/sbin/nologin mc
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
# WebTransport (QUIC), gRPC, HTTP (/healthz, /readyz, /metrics)
EXPOSE 4433/udp 50052/tcp 8081/tcp
ENTRYPOINT ["meeting-controller"]
CMD ["run"]
