#!/usr/bin/env bash
# First step of `npm test`: the real-component tests run Debian's nginx, LuaJIT, openssl and jq on
# loopback. Installs what is missing when it can (root with apt-get), else says in one line what
# to run. Prints nothing when everything is present.
set -euo pipefail
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v luajit >/dev/null || missing+=(luajit)
command -v openssl >/dev/null || missing+=(openssl)
# jq: the delivery tests apply Argo CD's jqPathExpressions the way Argo CD does (del(<path>)).
command -v jq >/dev/null || missing+=(jq)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test: installing ${missing[*]} from Debian's packages (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo "
echo "test: ${missing[*]} missing for the real-component tests; run: ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${missing[*]}" >&2
exit 1
