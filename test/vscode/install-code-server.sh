#!/usr/bin/env bash
# install-code-server.sh [DEST] — code-server 4.100.3 (VS Code 1.100.3) from the npm registry only,
# for the extension's in-host and UI tests. Idempotent: skips when the pinned version is there.
# Needs Debian's ripgrep, libkrb5-dev and pkg-config (.ci/run installs them). The workarounds below
# are those of shared/reference/vscode-testing.md: each one unblocks an install step that would
# otherwise reach the internet or be silently skipped by npm 11.
set -euo pipefail
DEST="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.tools/code-server}"
CS_VERSION="${CS_VERSION:-4.100.3}"
# Absolute, since the install below runs from inside DEST.
mkdir -p "$DEST"
DEST="$(cd "$DEST" && pwd)"
BIN="$DEST/node_modules/.bin/code-server"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "^$CS_VERSION "; then
  echo "code-server $CS_VERSION already in $DEST"; exit 0
fi
command -v rg >/dev/null || { echo "install-code-server: needs Debian's ripgrep (apt-get install -y ripgrep)" >&2; exit 1; }
[ -e /usr/include/gssapi/gssapi.h ] || { echo "install-code-server: needs libkrb5-dev (apt-get install -y libkrb5-dev)" >&2; exit 1; }
mkdir -p "$DEST"
WORK_TMP="$(mktemp -d)"
trap 'rm -rf "$WORK_TMP"' EXIT
# @vscode/ripgrep's postinstall downloads rg from GitHub: seed its cache with Debian's rg instead.
RG_PKG_VERSION=1.15.11   # the @vscode/ripgrep that code-server 4.100.3's shrinkwrap pins
RG_TAG=v13.0.0-10        # that version's download tag
mkdir -p "$WORK_TMP/vscode-ripgrep-cache-$RG_PKG_VERSION" "$WORK_TMP/rg"
cp "$(command -v rg)" "$WORK_TMP/rg/rg"
tar -czf "$WORK_TMP/vscode-ripgrep-cache-$RG_PKG_VERSION/ripgrep-$RG_TAG-x86_64-unknown-linux-musl.tar.gz" -C "$WORK_TMP/rg" rg
cd "$DEST"
[ -f package.json ] || echo '{"name":"code-server-host","version":"1.0.0","private":true}' > package.json
# node-gyp must use the local Node headers (it would otherwise download them).
NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
[ -e "$NODEDIR/include/node/node.h" ] || { echo "install-code-server: no node headers under $NODEDIR/include/node" >&2; exit 1; }
env TMPDIR="$WORK_TMP" npm_config_nodedir="$NODEDIR" \
  npm_config_dangerously_allow_all_scripts=true \
  npm_config_unsafe_perm=true \
  npm_config_yes=true \
  npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CS_VERSION"
"$BIN" --version
