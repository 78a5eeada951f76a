# The bridge as a container. No Docker engine runs on the development machines, so this
# file is kept simple and checked by reading: it installs the same pinned dependencies
# as `make install` and serves the bridge. Without provider credentials in the
# environment it runs in sandbox mode (built-in simulators); with them, the real APIs.

# stac-browser for /browser/, built by the same script and pins as `make browser`.
FROM node:20-bookworm-slim AS browser
WORKDIR /src
COPY browser/package.json browser/package-lock.json ./browser/
COPY scripts/build-stac-browser.sh ./scripts/
RUN BROWSER_REQUIRED=1 bash scripts/build-stac-browser.sh

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    BRIDGE_COLLECTIONS_DIR=/app/collections \
    BRIDGE_BROWSER_DIR=/app/browser/dist \
    BRIDGE_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bridge ./bridge
COPY collections ./collections
COPY --from=browser /src/browser/dist ./browser/dist
RUN pip install -c constraints.txt . \
    && useradd --system --uid 10001 bridge \
    && mkdir /data && chown bridge /data
USER bridge
# The default SQLite database (tenants, keys, orders); use BRIDGE_DATABASE_URL for PostgreSQL.
VOLUME /data

EXPOSE 8080
# Listen on all interfaces inside the container; publish with `docker run -p 8080:8080`.
CMD ["bridge", "serve", "--host", "0.0.0.0", "--port", "8080"]
