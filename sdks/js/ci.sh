#!/usr/bin/env bash
# CI of the TypeScript/JavaScript SDK (@mediavault/sdk), called by .ci/run with its virtual environment active
# (mediavault installed: the tests start `python3 -m mediavault serve`, or $MEDIAVAULT_PYTHON). Installs Node.js,
# npm and Chromium (for the browser test; $CHROMIUM names another) from Debian's packages when missing, then the
# locked dev dependencies, checks the formatting, builds and runs the tests (Node.js's own test runner; the last
# lines are its summary). Then the tus tests (tus-js-client, and the SDK's own resumable uploads) again with their
# server on PostgreSQL + Redis + S3 on moto (`python -m tests.full_leg`: a fresh database on 127.0.0.1:5432, Redis
# on 6379; docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || missing+=(chromium) # the browser test's
if [ ${#missing[@]} -ne 0 ]; then
  echo "JS SDK: installing ${missing[*]} from Debian's packages"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  started=$SECONDS
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "CI timing: sdks/js apt-get install $((SECONDS - started)) s"
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
started=$SECONDS
(cd ../.. && "$python" -m tests.full_leg node sdks/js/test/run.mjs tus.test resumable.test)
echo "CI timing: sdks/js tus tests on PostgreSQL + Redis + S3 $((SECONDS - started)) s"
