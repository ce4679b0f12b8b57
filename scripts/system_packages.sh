#!/usr/bin/env bash
# Debian packages the tests use: mosquitto (test-owned brokers; mosquitto_passwd), openssl (TLS test
# certificates) and chromium (the portal tests drive it headless with Playwright). Installs what is missing
# when we may (root with apt-get); otherwise says what to install.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system_packages: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "Please install these Debian packages: ${need[*]}" >&2
  exit 1
fi
