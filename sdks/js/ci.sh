#!/usr/bin/env bash
# CI of the TypeScript/JavaScript SDK (@mediavault/sdk), called by .ci/run with its virtual environment active
# (mediavault installed: the tests start `python3 -m mediavault serve`, or $MEDIAVAULT_PYTHON). Installs Node.js
# and npm from Debian's packages when missing, then the locked dev dependencies, builds and runs the tests
# (Node.js's own test runner; the last lines are its summary).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js or npm missing: installing Debian's nodejs and npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "FATAL: Node.js $(node --version) is older than 18, the oldest this SDK supports"
  exit 1
fi
python="${MEDIAVAULT_PYTHON:-python3}"
if ! "$python" -c 'import mediavault' 2>/dev/null; then
  echo "FATAL: $python cannot import mediavault (activate the virtual environment it is installed in, or set MEDIAVAULT_PYTHON)"
  exit 1
fi
echo "Node.js $(node --version), npm $(npm --version), $("$python" --version) at $(command -v "$python")"

started=$SECONDS
npm ci --no-audit --no-fund
echo "CI timing: sdks/js npm ci $((SECONDS - started)) s"
npm test
