#!/bin/sh
# Installs a slicenav build tree into a fresh prefix and uses it from outside, as a user would.
#   run_install_test.sh CMAKE BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR C_COMPILER GENERATOR LIBDIR
set -eu

cmake_bin=$1
build_dir=$2
work=$3
consumer_src=$4
cc_bin=$5
generator=$6
libdir_rel=$7

prefix="$work/prefix"
fail() { echo "install test: FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"

echo "== cmake --install into $prefix"
"$cmake_bin" --install "$build_dir" --prefix "$prefix"

libdir="$prefix/$libdir_rel"
[ -f "$prefix/include/slicenav.h" ] || fail "include/slicenav.h not installed"
[ -f "$prefix/include/slicenav_experimental.h" ] || fail "include/slicenav_experimental.h not installed"
[ -f "$libdir/cmake/slicenav/slicenavConfig.cmake" ] || fail "slicenavConfig.cmake not installed"
[ -f "$libdir/pkgconfig/slicenav.pc" ] || fail "slicenav.pc not installed"

echo "== SONAME link"
[ -L "$libdir/libslicenav.so.0" ] || fail "$libdir/libslicenav.so.0 (SOVERSION link) missing"
[ -L "$libdir/libslicenav.so" ] || fail "$libdir/libslicenav.so (dev link) missing"
real=$(readlink -f "$libdir/libslicenav.so.0")
[ -f "$real" ] || fail "libslicenav.so.0 points nowhere"
if command -v objdump >/dev/null 2>&1; then
  objdump -p "$real" | grep -q 'SONAME *libslicenav\.so\.0$' || fail "SONAME is not libslicenav.so.0"
fi

echo "== exported symbols"
if command -v nm >/dev/null 2>&1; then
  # Defined dynamic symbols that are functions or data, minus the C API.
  others=$(nm -D --defined-only "$real" | awk '$2 ~ /^[TtDdBbRrVvWwui]$/ {print $3}' \
             | grep -v '^slicenav_' | grep -v '^SLICENAV_' || true)
  if [ -n "$others" ]; then
    echo "$others" | head -20 >&2
    fail "libslicenav exports symbols outside slicenav_*"
  fi
  nm -D --defined-only "$real" | grep -q ' T slicenav_volume_read$' || fail "slicenav_volume_read not exported"
fi

echo "== find_package(slicenav) consumer"
"$cmake_bin" -S "$consumer_src" -B "$work/consumer-build" -G "$generator" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc_bin" -DCMAKE_PREFIX_PATH="$prefix"
"$cmake_bin" --build "$work/consumer-build"
# The imported target carries no RPATH into an arbitrary prefix on every platform; be explicit.
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer-build/consumer" \
  || fail "CMake consumer did not run"

echo "== pkg-config consumer"
pkg_config=$(command -v pkg-config || command -v pkgconf || true)
[ -n "$pkg_config" ] || fail "pkg-config not found"
# slicenav.pc locates its prefix relative to itself, so an install under any --prefix works as is.
flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_LIBDIR="$libdir/pkgconfig" \
          "$pkg_config" --cflags --libs slicenav) \
  || fail "pkg-config slicenav failed"
echo "pkg-config: $flags"
case "$flags" in
  *"-I$prefix/"*"/include"*|*"-I$prefix/include"*) ;;
  *) fail "pkg-config --cflags does not point into $prefix: $flags" ;;
esac
# shellcheck disable=SC2086
"$cc_bin" -std=c99 -Wall -Wextra -pedantic -Werror "$consumer_src/main.c" -o "$work/consumer-pkgconfig" $flags
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer-pkgconfig" \
  || fail "pkg-config consumer did not run"

echo "install test: OK"
