#!/usr/bin/env bash
# Packaging checks, one per ctest test (tests/packaging/CMakeLists.txt):
#   check-package.sh desktop  FILE.desktop
#   check-package.sh metainfo FILE.metainfo.xml VERSION
#   check-package.sh man      PAGE.1...
#   check-package.sh build    BUILD_DIR OUT_DIR          the .deb, from CPackConfig.cmake
#   check-package.sh contents OUT_DIR                    file list and control fields
#   check-package.sh run      OUT_DIR                    the programs from a dpkg-deb -x
#   check-package.sh lintian  OUT_DIR
# A missing tool skips the check (exit 77) unless CI=true, where it is a failure.
set -euo pipefail

fail() { echo "check-package: $*" >&2; exit 1; }
need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null && continue
    [ "${CI:-}" = true ] && fail "$tool is missing (tools/install-deps.sh installs it)"
    echo "check-package: SKIP: $tool is missing (tools/install-deps.sh installs it)"
    exit 77
  done
}

# The one package `build` wrote to OUT_DIR.
package_in() {
  local debs=("$1"/*.deb)
  [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "$1: expected one .deb from the packaging_build test, found: ${debs[*]}"
  echo "${debs[0]}"
}

check_desktop() {
  need desktop-file-validate
  desktop-file-validate "$1"  # prints nothing and exits 0 when the file is valid
  [ -z "$(desktop-file-validate "$1")" ] || fail "$1: desktop-file-validate has hints"
}

check_metainfo() {
  need appstreamcli
  appstreamcli validate --no-net --strict "$1"
  # The newest release listed is the version being built.
  grep -q "<release version=\"$2\"" "$1" || fail "$1: no <release version=\"$2\"> (add the release)"
}

check_man() {
  need man
  for page in "$@"; do
    # What lintian runs: groff's warnings on the page, none expected.
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "$page: $warnings"
  done
}

check_build() {
  need cpack dpkg-deb dpkg-shlibdeps file
  local build=$1 out=$2
  rm -rf "$out" && mkdir -p "$out"
  cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; fail "cpack failed"; }
  ls "$out"/*.deb
}

check_contents() {
  need dpkg-deb
  local deb name version arch
  deb=$(package_in "$1")
  name=$(basename "$deb")
  version=$(dpkg-deb -f "$deb" Version)
  arch=$(dpkg-deb -f "$deb" Architecture)
  [ "$name" = "folio_${version}_${arch}.deb" ] || fail "$name is not folio_${version}_${arch}.deb"
  [ "$(dpkg-deb -f "$deb" Package)" = folio ] || fail "$name: Package is not folio"

  local list
  list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
  for path in /usr/bin/folio /usr/bin/folio-cli /usr/bin/folio-server \
              /usr/share/folio/models/folio-demo.gguf /usr/share/folio/models/folio-demo.md \
              /usr/share/folio/samples/moby-dick-planted-facts.txt /usr/share/folio/samples/moby-dick-chapters-1-12.txt \
              /usr/share/applications/org.folioreader.Folio.desktop \
              /usr/share/metainfo/org.folioreader.Folio.metainfo.xml \
              /usr/share/icons/hicolor/scalable/apps/org.folioreader.Folio.svg \
              /usr/share/man/man1/folio.1.gz /usr/share/man/man1/folio-cli.1.gz /usr/share/man/man1/folio-server.1.gz \
              /usr/share/doc/folio/copyright /usr/share/doc/folio/changelog.gz; do
    grep -qxF "$path" <<<"$list" || fail "$name lacks $path"
  done
  # Everything under /usr, nothing from the build tree (tests, benchmarks, headers).
  ! grep -v '^/usr/' <<<"$list" | grep -v '^/$' | grep . || fail "$name has files outside /usr"
  ! grep -E 'test|bench|/include/' <<<"$list" || fail "$name holds test, benchmark or header files"

  # Depends from dpkg-shlibdeps, plus the plugins it cannot see.
  local depends
  depends=$(dpkg-deb -f "$deb" Depends)
  for package in libc6 libstdc++6 libqt6core6 libqt6widgets6 libpoppler-qt6-3 libsqlite3-0 qt6-qpa-plugins; do
    tr ',' '\n' <<<"$depends" | awk '{print $1}' | grep -qxF "$package" || fail "$name: Depends lacks $package: $depends"
  done
  echo "$name: $(wc -l <<<"$list") entries; Depends: $depends"
}

check_run() {
  need dpkg-deb
  local deb
  deb=$(package_in "$1")
  root=$(mktemp -d "${TMPDIR:-/tmp}/folio-deb.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  dpkg-deb -x "$deb" "$root/pkg"
  local bin=$root/pkg/usr/bin
  local version
  version=$(dpkg-deb -f "$deb" Version)
  [ "$("$bin/folio-cli" --version)" = "folio-cli $version" ] || fail "folio-cli --version: $("$bin/folio-cli" --version)"
  "$bin/folio-server" --help | grep -q -- --model || fail "folio-server --help lacks --model"
  local top
  top=$(zcat "$root/pkg/usr/share/doc/folio/changelog.gz" | head -1)
  [[ $top == "folio ($version) "* ]] || fail "packaging/debian/changelog starts with '$top': add an entry for $version"

  # The app finds its demo model under ../share/folio/models from its own directory.
  # No checkout above the extraction may hold resources/ (the other place it looks).
  local dir=$bin
  for _ in 1 2 3 4 5 6; do
    [ ! -e "$dir/resources/models/folio-demo.gguf" ] || fail "$dir holds resources/: extract elsewhere (TMPDIR)"
    dir=$(dirname "$dir")
  done
  mkdir -p "$root/home" "$root/runtime" && chmod 700 "$root/runtime"
  local answer
  answer=$(HOME=$root/home XDG_DATA_HOME=$root/home/data XDG_CONFIG_HOME=$root/home/config \
           XDG_CACHE_HOME=$root/home/cache XDG_RUNTIME_DIR=$root/runtime QT_QPA_PLATFORM=offscreen \
           timeout 60 "$bin/folio" --screenshot "$root/answer.png" --ask "What is the secret word?" \
           "$root/pkg/usr/share/folio/samples/moby-dick-planted-facts.txt" 2>"$root/folio.err") \
    || { cat "$root/folio.err" >&2; fail "folio from the package did not answer"; }
  grep -q juniper <<<"$answer" || fail "folio from the package answered '$answer', not juniper"
  echo "folio-cli $version runs from the extraction; folio answered with the bundled demo model: $answer"
}

check_lintian() {
  need lintian
  # Errors, warnings and info tags fail unless overridden with a reason in
  # packaging/debian/folio.lintian-overrides; pedantic ones are shown only.
  local deb output rc=0
  deb=$(package_in "$1")
  output=$(lintian --fail-on error,warning,info --display-info --pedantic "$deb" 2>&1) || rc=$?
  grep -v 'running with root privileges' <<<"$output" || true
  [ "$rc" -eq 0 ] || fail "lintian: tags left on $(basename "$deb") (fix them, or override them with a reason in packaging/debian/folio.lintian-overrides)"
  echo "lintian: $(basename "$deb") clean (overridden tags: lintian --show-overrides)"
}

mode=${1:?mode}; shift
case $mode in
  desktop) check_desktop "$@" ;;
  metainfo) check_metainfo "$@" ;;
  man) check_man "$@" ;;
  build) check_build "$@" ;;
  contents) check_contents "$@" ;;
  run) check_run "$@" ;;
  lintian) check_lintian "$@" ;;
  *) fail "unknown mode $mode" ;;
esac
