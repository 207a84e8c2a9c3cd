#!/usr/bin/env bash
# Installs the Debian 12 packages that Folio needs to build, test and run.
# Safe to run again: it does nothing when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-qpa-plugins libqt6svg6 libgl-dev
  libpoppler-qt6-dev poppler-utils
  libopenblas-dev libsqlite3-dev libzip-dev libcpp-httplib-dev
  qtkeychain-qt6-dev   # QtKeychain for Qt 6 (upstream's "qt6keychain-dev"): server API keys in the system keyring
  libgtest-dev libgmock-dev
  xvfb xauth fonts-dejavu-core
  dpkg-dev file lintian man-db desktop-file-utils appstream   # the Debian package and its checks (tests/packaging)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
