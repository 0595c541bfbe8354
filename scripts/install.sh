#!/usr/bin/env bash
# Installs what the sandbox and the tests need on a Debian 12 machine, then fetches the pinned OHIF build.
# Safe to re-run: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nginx libnginx-mod-http-js njs orthanc orthanc-dicomweb chromium procps wrk postgresql)
command -v npm >/dev/null || packages+=(nodejs npm)
command -v mvn >/dev/null || packages+=(maven)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "-- apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "-- pip install -r requirements.txt"
python3 -m pip install -q --disable-pip-version-check -r requirements.txt

echo "-- the pinned OHIF build (npm pack @ohif/app, integrity-checked)"
python3 -c "from components.render.viewer_build import fetch_build; print(fetch_build())"
echo "-- its precompressed variants (brotli 11 and gzip 9 on every core: minutes the first time, then cached)"
python3 -c "from components.render.viewer_build import compress_all, fetch_build, precompressed
print(len(compress_all(p for p in fetch_build().rglob('*') if precompressed(p.name) and p.suffix != '.map')), 'files')"
echo "-- the pinned OHIF v2 script for the embedded recipe (npm pack @ohif/viewer, integrity-checked)"
python3 -c "from components.render.embed import script_files; print(script_files()[0].path)"

echo "-- Azurite (npm), the Azure Blob emulator the storage sync's tests run against"
[ -x .cache/azurite/node_modules/.bin/azurite-blob ] ||
  npm install --silent --no-audit --no-fund --prefix .cache/azurite azurite@3.37.0

echo "-- the pinned Keycloak server (Maven), for the user-account-control sandbox"
python3 -c "from sandbox.keycloak import fetch_keycloak, java_home; print(fetch_keycloak(), 'with Java at', java_home())"
