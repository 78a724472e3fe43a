#!/usr/bin/env bash
# One command for a fresh Debian/Ubuntu machine: installs labwatch's Node dependencies and builds, makes
# sure a Redis with append-only persistence answers on 127.0.0.1:6379 (installing and starting
# Debian's redis-server when none does), then runs the daemon with the example config.
#   bash scripts/setup-and-run.sh [extra args for `labwatch run`]
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'labwatch setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  say "installing $* from the distribution's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# 1. Node.js >= 20.
node_ok() { command -v node >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; }
if ! node_ok; then
  command -v node >/dev/null || apt_install nodejs npm
  node_ok || { say "Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none)). Debian 13 and Ubuntu 24.10+ ship it; otherwise install Node 20 or 22 from nodejs.org, then run this again."; exit 1; }
fi

# 2. Dependencies, exactly as locked, and the compiled CLI (bin/labwatch.js runs it: starts at once).
say "installing Node dependencies (npm ci) and building (npm run build)"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

# 3. Redis with persistence: labwatch acknowledges an alert only once it is in Redis.
if ! command -v redis-cli >/dev/null || ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  command -v redis-server >/dev/null || apt_install redis-server
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    say "starting redis-server with systemd"
    as_root systemctl enable --now redis-server >/dev/null 2>&1 || as_root systemctl start redis-server
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    data="${LABWATCH_REDIS_DIR:-$HOME/.local/share/labwatch/redis}"
    mkdir -p "$data"
    say "starting redis-server on 127.0.0.1:6379 (data in $data)"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes --dir "$data" --logfile "$data/redis.log"
  fi
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p 6379 config set appendonly yes >/dev/null
  redis-cli -h 127.0.0.1 -p 6379 config rewrite >/dev/null 2>&1 || true
elif [ "$(redis-cli -h 127.0.0.1 -p 6379 config get appendonly 2>/dev/null | tail -n 1)" != "yes" ]; then
  say "warning: your Redis runs without append-only persistence; alerts acknowledged just before a Redis crash could be lost."
  say "         enable it with: redis-cli config set appendonly yes && redis-cli config rewrite"
fi

# 4. Run.
say "starting labwatch with config/labwatch.example.yaml (Ctrl-C stops it)"
exec node bin/labwatch.js run --config config/labwatch.example.yaml "$@"
