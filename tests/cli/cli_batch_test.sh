#!/usr/bin/env bash
# End-to-end tests of `--batch` runs over folders of scans (resume, read-ahead, shards): one ctest per case.
#
#   cli_batch_test.sh CASE SLICENAV_BINARY WORK_DIR DATA_DIR PROJECT_VERSION
#
# Exit 0 pass, 1 fail, 77 skip (real data absent); the helpers are in cli_common.sh.
# shellcheck source=cli_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_common.sh"

case "$case_name" in
batch_score_resume)
  mkdir "$work/cases" "$work/out"
  ok phantom -o "$work/cases/p1.nii.gz" "${nav_a_args[@]}"
  ok phantom -o "$work/cases/p2.nii.gz" --size 64 64 30 --spacing 4 4 5 --top-z -50 --noise 0 --orientation RAI
  head -c 300 /dev/urandom >"$work/cases/broken.nii.gz"
  run score --batch "$work/cases" -o "$work/out"
  [ "$rc" -eq 10 ] || fail "batch with a broken case exited $rc, expected 10; stderr: $(cat "$work/.err")"
  [ ! -s "$work/.out" ] || fail "batch wrote to stdout: $(cat "$work/.out")"
  only_files "$work/out" p1.json p2.json
  grep -Eq 'broken: FAILED' "$work/.err" || fail "stderr does not name the failed case: $(cat "$work/.err")"
  grep -Eq '^batch: 2 done, 0 skipped, 1 failed of 3 cases; failed: broken$' "$work/.err" ||
    fail "unexpected batch summary: $(cat "$work/.err")"
  for c in p1 p2; do
    check_json "$work/out/$c.json" "
assert len(j['slices']) == 30
assert j['image'].endswith('/cases/$c.nii.gz')
"
  done
  cp "$work/out/p1.json" "$work/p1.first"
  # Again: the two done cases are skipped, the broken one fails again.
  run score --batch "$work/cases" -o "$work/out"
  [ "$rc" -eq 10 ] || fail "second batch run exited $rc, expected 10; stderr: $(cat "$work/.err")"
  grep -Eq 'p1: skipped' "$work/.err" && grep -Eq 'p2: skipped' "$work/.err" ||
    fail "second run did not skip the done cases: $(cat "$work/.err")"
  grep -Eq '^batch: 0 done, 2 skipped, 1 failed of 3 cases' "$work/.err" ||
    fail "unexpected batch summary: $(cat "$work/.err")"
  cmp -s "$work/out/p1.json" "$work/p1.first" || fail "a skipped case's output changed"
  only_files "$work/out" p1.json p2.json
  # Once the broken case is gone, the batch succeeds.
  rm "$work/cases/broken.nii.gz"
  ok score --batch "$work/cases" -o "$work/out"
  ;;

batch_read_ahead)
  # The next image is read while the current case runs: the answers are those of --no-read-ahead, a broken image
  # read ahead fails as its own case, and a case whose output exists is skipped.
  mkdir "$work/cases" "$work/ahead" "$work/inturn"
  ok phantom -o "$work/cases/p1.nii.gz" "${nav_a_args[@]}"
  head -c 300 /dev/urandom >"$work/cases/p1b.nii.gz"
  ok phantom -o "$work/cases/p2.nii.gz" "${nav_b_args[@]}"
  head -c 300 /dev/urandom >"$work/cases/p3.nii.gz"
  echo '{}' >"$work/ahead/p3.json"
  echo '{}' >"$work/inturn/p3.json"
  run locate --batch "$work/cases" -o "$work/ahead"
  [ "$rc" -eq 10 ] || fail "read-ahead batch exited $rc, expected 10; stderr: $(cat "$work/.err")"
  grep -Eq "^\[[0-9]/4\] p1b: FAILED: .*p1b\.nii\.gz" "$work/.err" || fail "broken case not reported as its own: $(cat "$work/.err")"
  grep -Eq '^batch: 2 done, 1 skipped, 1 failed of 4 cases; failed: p1b$' "$work/.err" ||
    fail "unexpected batch summary: $(cat "$work/.err")"
  run locate --batch "$work/cases" -o "$work/inturn" --no-read-ahead
  [ "$rc" -eq 10 ] || fail "--no-read-ahead batch exited $rc, expected 10; stderr: $(cat "$work/.err")"
  only_files "$work/ahead" p1.json p2.json p3.json
  for c in p1 p2; do cmp -s "$work/ahead/$c.json" "$work/inturn/$c.json" || fail "$c: read ahead and in turn differ"; done
  run locate "$work/cases/p1.nii.gz" --no-read-ahead
  [ "$rc" -ge 100 ] || fail "--no-read-ahead without --batch exited $rc, expected a usage error"
  ;;

batch_shards)
  mkdir "$work/cases" "$work/o0" "$work/o1"
  for c in c0 c1 c2; do ok phantom -o "$work/cases/$c.nii.gz" "${nav_a_args[@]}"; done
  # A LIST works like the DIR: relative to the list's directory, comments and blank lines ignored.
  printf '# cases\ncases/c0.nii.gz\n\n  cases/c1.nii.gz  \ncases/c2.nii.gz\n' >"$work/list.txt"
  ok score --batch "$work/cases" -o "$work/o0" --shard 0/2
  only_files "$work/o0" c0.json c2.json
  ok score --batch "$work/list.txt" -o "$work/o1" --shard 1/2
  only_files "$work/o1" c1.json
  # More shards than cases: an empty shard succeeds at once.
  mkdir "$work/o5"
  ok score --batch "$work/cases" -o "$work/o5" --shard 4/5
  only_files "$work/o5"
  ;;

batch_locate_coverage)
  # locate and coverage run in batch mode too; locate writes one --qc picture per case into a directory.
  mkdir "$work/cases" "$work/out" "$work/qc" "$work/cov"
  ok phantom -o "$work/cases/p1.nii.gz" "${nav_a_args[@]}"
  ok phantom -o "$work/cases/p2.mha" "${nav_b_args[@]}"
  ok locate --batch "$work/cases" -o "$work/out" --qc "$work/qc" --method score
  only_files "$work/out" p1.json p2.json
  only_files "$work/qc" p1.png p2.png
  is_png "$work/qc/p2.png" || fail "batch --qc did not write PNGs"
  check_json "$work/out/p2.json" "
assert j['method'] == 'score' and len(j['landmarks']) > 0
"
  expect_error 2 'missing_qc' locate --batch "$work/cases" -o "$work/out" --qc "$work/missing_qc"
  ok coverage --batch "$work/cases" -o "$work/cov" --region lungs
  only_files "$work/cov" p1.json p2.json
  check_json "$work/cov/p1.json" "assert j['region'] == 'lungs' and j['coverage'] in ('full', 'partial', 'none')"
  ;;

batch_insert)
  # insert --batch: every batch image is a query inserted into the one TARGET; answers equal single runs.
  mkdir "$work/cases" "$work/out" "$work/qc"
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  ok phantom -o "$work/cases/q1.nii.gz" "${nav_a_args[@]}"
  ok phantom -o "$work/cases/q2.mha" --size 64 64 30 --spacing 4 4 5 --top-z -50 --noise 0 --orientation RAI
  head -c 300 /dev/urandom >"$work/cases/broken.nii.gz"
  run insert --batch "$work/cases" "$work/b.nii.gz" -o "$work/out" --qc "$work/qc"
  [ "$rc" -eq 10 ] || fail "insert batch with a broken case exited $rc, expected 10; stderr: $(cat "$work/.err")"
  only_files "$work/out" q1.json q2.json
  only_files "$work/qc" q1.png q2.png
  grep -Eq '^batch: 2 done, 0 skipped, 1 failed of 3 cases; failed: broken$' "$work/.err" ||
    fail "unexpected batch summary: $(cat "$work/.err")"
  ok insert "$work/cases/q2.mha" "$work/b.nii.gz" -o "$work/single.json"
  "$py" - "$work/out/q2.json" "$work/single.json" <<'PY' || fail "batch and single insert differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a['target'] == b['target'] and a['target'].endswith('/b.nii.gz')
assert a['slices'] == b['slices']
PY
  rm "$work/cases/broken.nii.gz"
  ok insert --batch "$work/cases" "$work/b.nii.gz" -o "$work/out"
  grep -Eq '^batch: 0 done, 2 skipped, 0 failed of 2 cases' "$work/.err" || fail "resume did not skip: $(cat "$work/.err")"
  # Usage: --batch takes the TARGET alone; without --batch both images are needed.
  for args in "insert --batch $work/cases $work/cases/q1.nii.gz $work/b.nii.gz -o $work/out" "insert --batch $work/cases -o $work/out" \
              "insert $work/b.nii.gz --shard 0/2"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
  done
  expect_error 2 'nope\.nii\.gz' insert --batch "$work/cases" "$work/nope.nii.gz" -o "$work/out"
  expect_error 1 '-o' insert --batch "$work/cases" "$work/b.nii.gz"
  ;;

batch_usage_errors)
  mkdir "$work/cases" "$work/out"
  ok phantom -o "$work/cases/p.nii.gz" "${nav_a_args[@]}"
  expect_error 2 'no_such_dir' score --batch "$work/no_such_dir" -o "$work/out"
  expect_error 1 '-o' score --batch "$work/cases"
  expect_error 2 'not_a_dir' score --batch "$work/cases" -o "$work/not_a_dir"
  mkdir "$work/empty"
  expect_error 1 'empty|no case' score --batch "$work/empty" -o "$work/out"
  for args in "score --batch $work/cases -o $work/out --shard 2/2" "score $work/cases/p.nii.gz --batch $work/cases -o $work/out" \
              "score $work/cases/p.nii.gz --shard 0/2"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
  done
  only_files "$work/out"
  ;;

*)
  fail "unknown case '$case_name'"
  ;;
esac
echo "PASS [$case_name]"
