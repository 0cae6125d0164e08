#!/usr/bin/env bash
# Installs and builds whatever is missing, and nothing else: safe to run before every command.
#   scripts/bootstrap.sh backend   PostgreSQL server binaries + .NET build
#   scripts/bootstrap.sh product   backend + the web app (npm ci, build)
#   scripts/bootstrap.sh test      product + Chromium and the Node test projects
#   scripts/bootstrap.sh bench     test + the optimised (Release) build that benchmarks run
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
level="${1:-product}"

say() { printf '\033[2m[setup] %s\033[0m\n' "$*"; }

apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing ${missing[*]} (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

have_postgres_server() {
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

# Newer sources than the stamp (or no stamp) means the step must run again.
stale() {
  local stamp="$1"; shift
  [ -e "$stamp" ] || return 0
  [ -n "$(find "$@" -newer "$stamp" -type f -not -path '*/bin/*' -not -path '*/obj/*' -not -path '*/node_modules/*' -not -path '*/dist/*' -print -quit 2>/dev/null)" ]
}

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet not found on PATH)." >&2; exit 1; }
have_postgres_server || apt_install postgresql
# Backups of the embedded cluster (WAL archiving, `invisible backup`/`restore`).
apt_install pgbackrest

cli="backend/Invisible.Cli/bin/Debug/net10.0/invisible.dll"
if stale "$cli" backend protos Directory.Build.props Directory.Packages.props global.json; then
  say "building the backend (dotnet build)"
  dotnet build backend/Invisible.Cli/Invisible.Cli.csproj -nologo -v:q -clp:ErrorsOnly
  touch "$cli"
fi
[ "$level" = backend ] && exit 0

release_cli="backend/Invisible.Cli/bin/Release/net10.0/invisible.dll"
if [ "$level" = bench ] && stale "$release_cli" backend protos Directory.Build.props Directory.Packages.props global.json; then
  say "building the backend for benchmarks (dotnet build -c Release)"
  dotnet build backend/Invisible.Cli/Invisible.Cli.csproj -c Release -nologo -v:q -clp:ErrorsOnly
  touch "$release_cli"
fi

command -v npm >/dev/null || apt_install nodejs npm
npm_ci() { # $1 = folder
  if stale "$1/node_modules/.package-lock.json" "$1/package-lock.json" "$1/package.json"; then
    say "installing $1 dependencies (npm ci)"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci frontend
if stale frontend/dist/invisible/browser/index.html frontend/src frontend/angular.json frontend/package.json protos; then
  say "building the web app (ng build)"
  (cd frontend && npm run --silent build)
fi
[ "$level" = product ] && exit 0

# prometheus brings promtool (alert rules) and the server the /metrics scrape test starts.
apt_install chromium nghttp2-client wrk prometheus
# The README's e-mail intake example sends with swaks.
apt_install swaks
# The mailbox polling tests start a real Dovecot IMAP server on loopback.
apt_install dovecot-imapd
for project in tests/interop tests/e2e tests/spa-bench; do
  [ -f "$project/package.json" ] && npm_ci "$project"
done
exit 0
