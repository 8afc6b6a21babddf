#!/usr/bin/env bash
# Install the third-party MCP servers the tests talk to, each at a pinned version and in its own
# environment (npm packages under .servers/npm, each PyPI server in its own virtualenv), apart
# from the engine's environment. Idempotent: a finished install is skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.servers"
mkdir -p "$dest"

NPM_PACKAGES=(
  "@modelcontextprotocol/server-everything@2026.8.31"
  "@modelcontextprotocol/server-filesystem@2026.8.31"
  "@modelcontextprotocol/server-memory@2026.8.31"
)
PY_SERVERS=(
  "time:mcp-server-time==2026.10.19"
  "git:mcp-server-git==2026.10.19"
)

stamp="$dest/npm/.installed-$(printf '%s\n' "${NPM_PACKAGES[@]}" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  mkdir -p "$dest/npm"
  (cd "$dest/npm" && [ -f package.json ] || echo '{"private": true}' > package.json)
  (cd "$dest/npm" && npm install --no-audit --no-fund --loglevel=error "${NPM_PACKAGES[@]}")
  touch "$stamp"
fi

python_bin="${PYTHON:-python3}"
for entry in "${PY_SERVERS[@]}"; do
  name="${entry%%:*}"
  spec="${entry#*:}"
  venv="$dest/$name-venv"
  stamp="$venv/.installed-$(echo "$spec" | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    rm -rf "$venv"
    "$python_bin" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec"
    touch "$stamp"
  fi
done
echo "test servers installed in $dest"
