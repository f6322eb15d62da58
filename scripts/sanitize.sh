#!/usr/bin/env bash
# The sanitizer and fuzzing checks (docs/reliability.md), after scripts/install-deps.sh:
#  1. build-sanitize/: clang with AddressSanitizer + UndefinedBehaviorSanitizer and the libFuzzer targets; runs the
#     core, C API and plugin tests (ctest -L "core|capi|plugins"), then fuzzes every target from the seeds fuzz_seeds
#     writes: a fixed number of runs from a fixed seed (about 30 s each on 2 cores, and the same inputs on every
#     machine, so a CI result can be replayed), or for SLICENAV_FUZZ_SECONDS each when that is set;
#  2. build-tsan/: clang with ThreadSanitizer; runs the threaded tests (8 threads sharing one model, batch jobs,
#     batch images read ahead).
# Any sanitizer report, fuzz finding or test failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${SLICENAV_JOBS:-$(nproc)}"
seconds="${SLICENAV_FUZZ_SECONDS:-0}"  # > 0: fuzz each target this long instead
root=$PWD
configure() {  # configure DIR SANITIZERS [cmake args]
  local dir=$1 sanitizers=$2
  shift 2
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DSLICENAV_SANITIZE="$sanitizers" -DSLICENAV_PYTHON=OFF -DSLICENAV_BENCHMARKS=OFF "$@" >/dev/null
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/scripts/lsan.supp:print_suppressions=0
# Calls per thread of the test of 8 threads sharing one model (10,000 in the normal build).
export SLICENAV_THREAD_CALLS=1000

echo "sanitize: AddressSanitizer + UndefinedBehaviorSanitizer build" >&2
configure build-sanitize address,undefined -DSLICENAV_FUZZ=ON
fuzz_targets=(volume dicom model ape_organs crop_record nnunet_dataset batch_list elastix_parameters)
cmake --build build-sanitize -j "$jobs" --target sanitizer_suite fuzz_seeds "${fuzz_targets[@]/#/fuzz_}"
# The tests that run the bundled model over whole real scans take minutes each under the sanitizers; they run in the
# normal build (scripts/test.sh). The real-data reader tests stay.
slow='NavigationRealData|CropRealData|PrealignRealData|RigidRealData|BundledModel|MeasureKeySlicesRealData|capi_insertion_test|capi_locate_test|RealCtCases|RealPair'
(cd build-sanitize && ctest --output-on-failure -j "$jobs" -L "core|capi|plugins" -LE examples -E "$slow")

# Runs per target for about 30 s each (docs/reliability.md, "Fuzzing in CI").
declare -A fuzz_runs=([volume]=3000 [dicom]=4000 [model]=20000 [ape_organs]=50000 [crop_record]=100000 [nnunet_dataset]=50000
  [batch_list]=50000 [elastix_parameters]=100000)
if [ "$seconds" -gt 0 ]; then
  echo "sanitize: fuzzing each target for ${seconds} s" >&2
else
  echo "sanitize: fuzzing each target for a fixed number of runs (seed 1)" >&2
fi
seeds=build-sanitize/fuzz-seeds
rm -rf "$seeds" && build-sanitize/fuzz/fuzz_seeds "$seeds" 2>/dev/null
for t in "${fuzz_targets[@]}"; do
  corpus=build-sanitize/fuzz-corpus/$t
  if [ "$seconds" -gt 0 ]; then
    fuzz_run=(-seed=1 -max_total_time="$seconds")  # the corpus grows from one such run to the next
  else
    fuzz_run=(-seed=1 -runs="${fuzz_runs[$t]}")
    rm -rf "$corpus"  # from the seeds alone, as on a fresh clone
  fi
  mkdir -p "$corpus" build-sanitize/fuzz-findings
  kept=(); [ -d fuzz/regressions/$t ] && kept=(fuzz/regressions/$t)  # past findings, replayed first
  scratch=$PWD/build-sanitize/fuzz-tmp/$t  # the target's scratch folder goes here, and must be gone when it ends
  rm -rf "$scratch" && mkdir -p "$scratch"
  TMPDIR=$scratch build-sanitize/fuzz/fuzz_$t "${fuzz_run[@]}" -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
    -artifact_prefix=build-sanitize/fuzz-findings/"$t"- "$corpus" "$seeds/$t" "${kept[@]}" 2>build-sanitize/fuzz-$t.log ||
    { tail -60 build-sanitize/fuzz-$t.log >&2; echo "sanitize: fuzz_$t found a problem" >&2; exit 1; }
  { grep -E "stat::number_of_executed_units" build-sanitize/fuzz-$t.log || true; } | sed "s/^/fuzz_$t: /" >&2
  [ -z "$(ls -A "$scratch")" ] || { ls -R "$scratch" >&2; echo "sanitize: fuzz_$t left files behind" >&2; exit 1; }
done

echo "sanitize: ThreadSanitizer build" >&2
configure build-tsan thread
cmake --build build-tsan -j "$jobs" --target model_test batch_test prefetch_test
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
build-tsan/tests/core/model_test --gtest_filter='*EightThreadsSharingOneModel*'
build-tsan/tests/cli/batch_test --gtest_filter='BatchRun.*'
build-tsan/tests/cli/prefetch_test
echo "sanitize: all clean" >&2
