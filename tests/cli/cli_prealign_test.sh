#!/usr/bin/env bash
# End-to-end tests of `slicenav prealign` and `register` (elastix): one ctest per case.
#
#   cli_prealign_test.sh CASE SLICENAV_BINARY WORK_DIR DATA_DIR PROJECT_VERSION
#
# Exit 0 pass, 1 fail, 77 skip (real data absent); the helpers are in cli_common.sh.
# shellcheck source=cli_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_common.sh"

case "$case_name" in
register_missing_elastix)
  ok phantom -o "$work/fixed.nii.gz" "${phantom_args[@]}"
  ok phantom -o "$work/moving.nii.gz" "${phantom_args[@]}" --seed 7
  mkdir -p "$work/empty"
  PATH="$work/empty" SLICENAV_ELASTIX="" run register "$work/fixed.nii.gz" "$work/moving.nii.gz" -o "$work/out"
  [ "$rc" -eq 2 ] || fail "register without elastix on PATH exited $rc: $(cat "$work/.err")"
  grep -q "elastix not found" "$work/.err" || fail "no 'elastix not found' message: $(cat "$work/.err")"
  expect_error 2 "elastix not found" register "$work/fixed.nii.gz" "$work/moving.nii.gz" -o "$work/out" --elastix "$work/empty/elastix"
  [ ! -e "$work/out" ] || fail "register without elastix left $work/out"
  ;;

register_elastix_failure)
  command -v elastix >/dev/null && command -v transformix >/dev/null || skip "elastix/transformix not on PATH"
  ok phantom -o "$work/fixed.nii.gz" "${phantom_args[@]}"
  ok phantom -o "$work/moving.nii.gz" "${phantom_args[@]}" --seed 7
  printf '(Transform "NoSuchTransform")\n(Metric "AdvancedMattesMutualInformation")\n' >"$work/bad.txt"
  # (--init none: the phantom is no anatomy the prealignment's model recognises.)
  expect_error 4 "elastix failed" register "$work/fixed.nii.gz" "$work/moving.nii.gz" -o "$work/out" --preset "$work/bad.txt" --init none
  grep -q "NoSuchTransform" "$work/.err" || fail "the message does not quote elastix's log: $(cat "$work/.err")"
  [ ! -e "$work/out" ] || fail "a failed registration left $work/out"
  mkdir "$work/kept" && echo earlier >"$work/kept/note.txt"
  expect_error 4 "elastix failed" register "$work/fixed.nii.gz" "$work/moving.nii.gz" -o "$work/kept" --preset "$work/bad.txt" --init none
  [ "$(ls -A "$work/kept")" = "note.txt" ] || fail "a failed registration changed $work/kept: $(ls -A "$work/kept")"
  expect_error 1 "unknown elastix preset.*rigid, affine" register "$work/fixed.nii.gz" "$work/moving.nii.gz" -o "$work/out" --preset bspline
  expect_error 2 "does not exist" register "$work/fixed.nii.gz" "$work/missing.nii.gz" -o "$work/out" --init none
  run register "$work/fixed.nii.gz" "$work/moving.nii.gz" -o "$work/out" --init sideways
  [ "$rc" -ge 100 ] || fail "an unknown --init exited $rc"
  ;;

register_phantom_geometric_centre)
  command -v elastix >/dev/null && command -v transformix >/dev/null || skip "elastix/transformix not on PATH"
  ok phantom -o "$work/fixed.nii.gz" "${phantom_args[@]}"
  ok phantom -o "$work/moving.nii.gz" "${phantom_args[@]}" --seed 7
  ok register "$work/fixed.nii.gz" "$work/moving.nii.gz" -o "$work/out" --init geometric-centre --resample --threads 1
  cp "$work/.out" "$work/stdout.json"
  check_json "$work/stdout.json" "
assert j['init']['mode'] == 'geometric-centre'
assert j['result']['transform'] == 'EulerTransform'
assert j['resampled']['file'] == 'resampled.nii.gz'
assert j['elastix']['runtime_s'] > 0
"
  cmp -s "$work/stdout.json" "$work/out/registration.json" || fail "stdout differs from registration.json"
  for f in TransformParameters.0.txt elastix.log parameters.txt resampled.nii.gz transformix.log registration.json; do
    [ -s "$work/out/$f" ] || fail "register left no $f"
  done
  grep -q '(AutomaticTransformInitializationMethod "GeometricalCenter")' "$work/out/parameters.txt" ||
    fail "parameters.txt does not ask elastix for GeometricalCenter"
  ok info "$work/out/resampled.nii.gz" -o "$work/resampled.json"
  ok info "$work/fixed.nii.gz" -o "$work/fixed.json"
  "$py" -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(a["size"]!=b["size"] or max(abs(x-y) for x,y in zip(a["origin"],b["origin"]))>1e-3)' \
    "$work/resampled.json" "$work/fixed.json" || fail "resampled.nii.gz is not on the fixed grid"
  ;;

register_real_prealign)
  command -v elastix >/dev/null && command -v transformix >/dev/null || skip "elastix/transformix not on PATH"
  fixed=$(require_data ct/ts_example_ct/ct.nii.gz) || exit $?
  moving=$(require_data pairs/ts_example_ct_sm.nii.gz) || exit $?
  # Known answer (pairs/ts_example_ct_sm_offset.json): the subset's header z is 246 mm below the truth.
  ok register "$fixed" "$moving" -o "$work/out" --threads 2
  check_json "$work/out/registration.json" "
assert j['init']['mode'] == 'prealign' and j['init']['method'] == 'embedding', j['init']  # auto's choice
assert abs(j['init']['translation_mm'][2] + 246) < 15, j['init']
t = j['result']['translation_at_fixed_centre_mm']
assert abs(t[0]) < 1.5 and abs(t[1]) < 1.5 and abs(t[2] + 246) < 1.5, t
"
  grep -q '^Transform: TranslationTransform_double_3_3' "$work/out/init.tfm" || fail "init.tfm is not an ITK translation"
  # The rigid prealignment as elastix's start: an EulerTransform near the same answer.
  ok register "$fixed" "$moving" -o "$work/rigid" --rigid --threads 2
  check_json "$work/rigid/registration.json" "
assert j['init']['mode'] == 'prealign' and j['init']['method'] == 'rigid', j['init']
assert abs(j['init']['translation_mm'][2] + 246) < 15, j['init']
t = j['result']['translation_at_fixed_centre_mm']
assert abs(t[0]) < 1.5 and abs(t[1]) < 1.5 and abs(t[2] + 246) < 1.5, t
"
  grep -q '^Transform: Euler3DTransform_double_3_3' "$work/rigid/init.tfm" || fail "rigid init.tfm is not an ITK Euler transform"
  expect_error 1 'needs --init prealign' register "$fixed" "$moving" -o "$work/none" --rigid --init none
  ;;

prealign_phantoms)
  # The phantom's anatomy is fixed in world space, so two phantoms of it need no translation.
  ok phantom -o "$work/a.nii.gz" "${nav_a_args[@]}"
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  ok prealign "$work/b.nii.gz" "$work/a.nii.gz" --method intensity -o "$work/init.txt" --tfm "$work/init.tfm" \
    --json "$work/r.json" --in-plane
  [ ! -s "$work/.out" ] || fail "prealign --json wrote to stdout: $(cat "$work/.out")"
  grep -q '^prealign (intensity): translation' "$work/.err" || fail "no summary on stderr: $(cat "$work/.err")"
  check_json "$work/r.json" "
assert j['method'] == 'intensity' and j['shared_anatomy'] is True
assert near(j['translation_mm'], [0, 0, 0], 2.0), j['translation_mm']
assert 0.5 < j['confidence'] <= 1 and near(j['overlap_mm'], 150, 3)
assert j['elastix_transform'].endswith('init.txt') and j['itk_transform'].endswith('init.tfm')
evidence = {'shifts_tried', 'match_cost', 'match_contrast', 'line_inliers', 'off_line_share', 'key_slices_shared'}
assert set(j['details']) == evidence | {'key_slice_deviation_mm', 'fixed_score_slope', 'fixed_recognised', 'moving_recognised', 'note'}
d = j['details']
assert d['shifts_tried'] > 0 and 0 <= d['match_cost'] < 1 and d['match_contrast'] > 0, d
assert d['line_inliers'] == 0 and d['key_slices_shared'] == 0 and d['fixed_score_slope'] == 0, d
"
  grep -q '(Transform "TranslationTransform")' "$work/init.txt" || fail "init.txt is not an elastix translation"
  grep -q '^Transform: TranslationTransform_double_3_3' "$work/init.tfm" || fail "init.tfm is not an ITK translation"
  # Without --json the JSON goes to stdout; without --in-plane x and y are 0.
  ok prealign "$work/b.nii.gz" "$work/a.nii.gz" --method intensity
  cp "$work/.out" "$work/stdout.json"
  check_json "$work/stdout.json" "
assert j['method'] == 'intensity' and j['translation_mm'][0] == 0 and j['translation_mm'][1] == 0
assert j['elastix_transform'] is None and j['itk_transform'] is None
"
  # The bundled model's slice embeddings, each slice centred on its own.
  ok prealign "$work/b.nii.gz" "$work/a.nii.gz" --method embedding --json "$work/e.json"
  check_json "$work/e.json" "
assert j['method'] == 'embedding' and j['shared_anatomy'] is True
assert near(j['translation_mm'], [0, 0, 0], 2.0), j['translation_mm']
"
  only_files "$work" a.nii.gz b.nii.gz init.txt init.tfm r.json stdout.json e.json
  ;;

prealign_errors)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  expect_error 2 'nope\.nii\.gz' prealign "$work/nope.nii.gz" "$work/b.nii.gz" --method intensity
  expect_error 2 'nope\.nii\.gz' prealign "$work/b.nii.gz" "$work/nope.nii.gz"
  expect_error 3 'missing' prealign "$work/b.nii.gz" "$work/b.nii.gz" -o "$work/missing/init.txt"
  expect_error 3 'missing' prealign "$work/b.nii.gz" "$work/b.nii.gz" --tfm "$work/missing/init.tfm"
  expect_error 2 'no_model\.snm' prealign "$work/b.nii.gz" "$work/b.nii.gz" --model "$work/no_model.snm"
  for args in "prealign $work/b.nii.gz" "prealign $work/b.nii.gz $work/b.nii.gz --method fasta" \
              "prealign $work/b.nii.gz $work/b.nii.gz --min-overlap -3"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
  done
  only_files "$work" b.nii.gz
  ;;

prealign_real_pairs)
  fixed=$(require_data ct/ts_example_ct/ct.nii.gz) || exit $?
  moving=$(require_data pairs/ts_example_ct_sm.nii.gz) || exit $?
  chest=$(require_data ct/lung1_001/ct.nii.gz) || exit $?
  extremity=$(require_data ood/ibsi_sts_001/ct.nii.gz) || exit $?
  # Known answer (pairs/ts_example_ct_sm_offset.json): the subset's header z is 246 mm below the truth.
  ok prealign "$fixed" "$moving" -o "$work/init.txt" --tfm "$work/init.tfm" --json "$work/r.json" --threads 2
  check_json "$work/r.json" "
assert j['shared_anatomy'] is True and j['confidence'] > 0.3
assert abs(j['translation_mm'][2] + 246) < 5, j['translation_mm']
assert j['requested_method'] == 'auto' and j['method'] == 'embedding', j['method']  # one scan's slices
"
  # Two patients (neither in the model's training): auto answers with the key slices. Truth: the median
  # shift of the key slices annotated in both (carina, aortic arch, liver dome, ...): -35.8 mm.
  other_a=$(require_data ct/lidc_0002/ct.nii.gz) || exit $?
  other_b=$(require_data ct/lidc_0003/ct.nii.gz) || exit $?
  ok prealign "$other_a" "$other_b" --json "$work/patients.json" --threads 2
  check_json "$work/patients.json" "
assert j['method'] == 'key-slices' and j['shared_anatomy'] is True, (j['method'], j['details'])
assert abs(j['translation_mm'][2] + 35.8) < 15, j['translation_mm']
"
  grep -Eq '^\(TransformParameters 0 0 -2[0-9][0-9]\.' "$work/init.txt" || fail "init.txt: $(grep TransformParameters "$work/init.txt")"
  # An extremity against a chest scan: no common anatomy, so the JSON says so and no transform is written.
  run prealign "$chest" "$extremity" -o "$work/none.txt" --json "$work/none.json" --threads 2
  [ "$rc" -eq 4 ] || fail "prealign of an extremity into a chest exited $rc, expected 4: $(cat "$work/.err")"
  grep -q 'no common anatomy' "$work/.err" || fail "no 'no common anatomy' on stderr: $(cat "$work/.err")"
  check_json "$work/none.json" "
assert j['shared_anatomy'] is False and j['confidence'] == 0 and j['details']['note']
assert j['elastix_transform'] is None
"
  only_files "$work" init.txt init.tfm r.json patients.json none.json
  ;;

prealign_rigid_real)
  fixed=$(require_data ct/ts_example_ct/ct.nii.gz) || exit $?
  moving=$(require_data pairs/ts_example_ct_sm.nii.gz) || exit $?
  chest=$(require_data ct/lung1_001/ct.nii.gz) || exit $?
  extremity=$(require_data ood/ibsi_sts_001/ct.nii.gz) || exit $?
  # The subset's header z is 246 mm below the truth and nothing is rotated: an EulerTransform near the
  # pure translation (0, 0, -246).
  ok prealign "$fixed" "$moving" --rigid -o "$work/init.txt" --tfm "$work/init.tfm" --json "$work/r.json" --threads 2
  check_json "$work/r.json" "
assert j['method'] == 'rigid' and j['shared_anatomy'] is True and j['confidence'] > 0.5, j
assert all(abs(a) < 1.5 for a in j['rotation_deg']), j['rotation_deg']
assert abs(j['translation_mm'][2] + 246) < 5 and abs(j['translation_mm'][0]) < 5 and abs(j['translation_mm'][1]) < 5, j
assert j['details']['inliers'] <= j['details']['consistent'] <= j['details']['points']
"
  grep -q '(Transform "EulerTransform")' "$work/init.txt" || fail "init.txt is not an elastix EulerTransform"
  grep -q '^(CenterOfRotationPoint ' "$work/init.txt" || fail "init.txt has no centre of rotation"
  grep -q '^Transform: Euler3DTransform_double_3_3' "$work/init.tfm" || fail "init.tfm is not an ITK Euler transform"
  # An extremity against a chest: refused, exit 4, no transform written.
  run prealign "$chest" "$extremity" --rigid -o "$work/none.txt" --json "$work/none.json" --threads 2
  [ "$rc" -eq 4 ] || fail "rigid prealign of an extremity into a chest exited $rc, expected 4: $(cat "$work/.err")"
  check_json "$work/none.json" "
assert j['shared_anatomy'] is False and j['confidence'] == 0 and j['details']['note'] and j['elastix_transform'] is None
"
  # --rigid is its own method: with --method it is a usage error.
  run prealign "$fixed" "$moving" --rigid --method score
  [ "$rc" -ge 100 ] || fail "'prealign --rigid --method score' exited $rc, expected a usage error (>= 100)"
  only_files "$work" init.txt init.tfm r.json none.json
  ;;

*)
  fail "unknown case '$case_name'"
  ;;

*)
  fail "unknown case '$case_name'"
  ;;
esac
echo "PASS [$case_name]"
