#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet (nothing when
# all are), with arm64 enabled as a foreign architecture first when one of them is ':arm64'.
# Needs root only when something is missing. Sourced or run:  apt-need.sh pkg[:arch]...
set -euo pipefail
apt_need() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "apt-need: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    return 1
  fi
  echo "== apt-get install ${missing[*]}"
  case " ${missing[*]}" in
    *:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64 ;;
  esac
  apt-get update -qq
  # Never let apt remove anything to make room (for example the machine's own nodejs).
  if apt-get -s install --no-install-recommends "${missing[@]}" | grep '^Remv'; then
    echo "apt-need: installing ${missing[*]} would remove the packages above; not done" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
if [ "${BASH_SOURCE[0]}" = "$0" ]; then apt_need "$@"; fi
