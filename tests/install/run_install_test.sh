#!/bin/sh
# Installs a slicenav build tree into a fresh prefix and uses it from outside, as a user would.
#   run_install_test.sh CMAKE BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR C_COMPILER GENERATOR LIBDIR [PYTHON PYTHON_DIR]
# PYTHON and PYTHON_DIR (the interpreter and the package's folder relative to the prefix; empty when the
# build has no Python bindings) add a check that `import slicenav` works from the installed prefix alone.
set -eu

cmake_bin=$1
build_dir=$2
work=$3
consumer_src=$4
cc_bin=$5
generator=$6
libdir_rel=$7
python_bin=${8:-}
python_dir_rel=${9:-}

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
[ -L "$libdir/libslicenav.so.0.2" ] || fail "$libdir/libslicenav.so.0.2 (SOVERSION link) missing"
[ -L "$libdir/libslicenav.so" ] || fail "$libdir/libslicenav.so (dev link) missing"
real=$(readlink -f "$libdir/libslicenav.so.0.2")
[ -f "$real" ] || fail "libslicenav.so.0.2 points nowhere"
if command -v objdump >/dev/null 2>&1; then
  objdump -p "$real" | grep -q 'SONAME *libslicenav\.so\.0\.2$' || fail "SONAME is not libslicenav.so.0.2"
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

if [ -n "$python_bin" ]; then
  echo "== import slicenav from $prefix/$python_dir_rel"
  [ -f "$prefix/$python_dir_rel/slicenav/__init__.py" ] || fail "slicenav Python package not installed"
  # From a neutral directory, with no library path: the extension finds the installed libslicenav (and the
  # installed model) through its relative RPATH.
  (cd "$work" && env -u LD_LIBRARY_PATH -u SLICENAV_MODEL PYTHONPATH="$prefix/$python_dir_rel" PYTHONDONTWRITEBYTECODE=1 \
     "$python_bin" -c '
import sys
import slicenav
prefix = sys.argv[1]
assert slicenav.__file__.startswith(prefix), slicenav.__file__
libs = {line.split()[-1] for line in open("/proc/self/maps") if "libslicenav.so" in line}
assert libs and all(path.startswith(prefix) for path in libs), libs
v = slicenav.phantom(size=(16, 16, 8))
assert v.to_numpy().shape == (8, 16, 16)
print("slicenav", slicenav.version(), "from", slicenav.__file__, "regions:", ", ".join(slicenav.Model(threads=1).regions()))
' "$prefix") || fail "import slicenav from the installed prefix failed"
fi

echo "install test: OK"
