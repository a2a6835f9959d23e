#!/usr/bin/env bash
# CI of the Go SDK (called by .ci/run with the CI virtual environment active, so `python3` runs the vault under
# test): installs Go and gorilla/websocket from Debian's packages when missing, then gofmt, go vet and go test
# (the race detector too when a C compiler is there) against real `mediavault serve` processes the tests start.
#
# Go modules cannot be downloaded on these machines (no module proxy), so the build runs offline
# (GOPROXY=off) in a throwaway Go workspace whose `replace` points github.com/gorilla/websocket at Debian's copy
# of its source. go.mod and go.sum stay those of a normal module (gorilla/websocket v1.5.0 and its checksums),
# so `go get github.com/wronai/mediavault-go` works anywhere a module proxy is reachable.
set -euo pipefail
cd "$(dirname "$0")"

WEBSOCKET_SRC=/usr/share/gocode/src/github.com/gorilla/websocket

missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -f "$WEBSOCKET_SRC/go.mod" ] || missing+=(golang-github-gorilla-websocket-dev)
if [ ${#missing[@]} -ne 0 ]; then
  echo "Go SDK: installing ${missing[*]} from Debian's packages"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
go version

python3 -c "import mediavault" || { echo "FATAL: python3 cannot import mediavault (activate the CI venv)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/go.work" <<EOF
go 1.19

use $(pwd)

replace github.com/gorilla/websocket => $WEBSOCKET_SRC
EOF
export GOWORK="$work/go.work" GOPROXY=off GOFLAGS="" GOSUMDB=off
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-$work}/.cache}/go-build}"

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "FAILED: gofmt would change: $unformatted"
  exit 1
fi
go vet ./...
race=()
if command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; then
  race=(-race)
fi
go test -count=1 "${race[@]}" ./...
