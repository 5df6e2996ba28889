#!/bin/sh
# tests/rule/run.sh - the rule language end to end through `dgov rule`:
# the demo policies' YAML tests (with generated boundary cases), the
# language tests, bad rule files and bad data that must fail with a clear
# message, run / explain / whatif on a small registry, and a policy written
# with Chinese names (tests/rule/zh). Prints TAP.
# Needs DGOV_BIN (scripts/test.sh sets it).
set -u
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/#   /'; }

# 1. YAML tests: renumber the runner's own TAP lines into ours
"$BIN" rule test --boundaries policies/tests/*.yaml tests/rule/*.yaml >"$tmp/yt" 2>"$tmp/yt.err"
yrc=$?
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) notok "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$tmp/yt"
if [ $yrc -ne 0 ] && ! grep -q '^not ok' "$tmp/yt"; then
	notok "rule test exited $yrc" "$(cat "$tmp/yt.err")"
fi

# 2. every policy checks clean, together
if "$BIN" rule check policies/*.rule >"$tmp/out" 2>"$tmp/err" && grep -q '^ok: 13 rules' "$tmp/out"; then
	ok "check: 13 demo policies compile without warnings"
else
	notok "check: demo policies" "$(cat "$tmp/err" "$tmp/out")"
fi
if grep -q warning "$tmp/err"; then notok "check: demo policies have warnings" "$(cat "$tmp/err")"; fi

# 3. bad rule files: non-zero exit and the expected message
for f in tests/rule/bad/*.rule; do
	want=$(sed -n 's/^# expect: //p' "$f" | head -1)
	"$BIN" rule check "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case "$want" in
	warning:*) exp_rc=0; want=${want#warning: } ;;
	*) exp_rc=1 ;;
	esac
	if [ $rc -eq $exp_rc ] && grep -qF -- "$want" "$tmp/err"; then
		ok "check rejects $(basename "$f"): $want"
	else
		notok "check $(basename "$f") (exit $rc, want $exp_rc and '$want')" "$(cat "$tmp/err")"
	fi
done

# 4. bad data: non-zero exit and the expected message
for d in tests/rule/baddata/*/; do
	want=$(cat "$d/expect")
	"$BIN" rule run --rules policies/*.rule --data "$d" --ref-date 2025-07-01 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ] && grep -qF -- "$want" "$tmp/err"; then
		ok "run rejects bad data $(basename "$d")"
	else
		notok "bad data $(basename "$d") (exit $rc)" "$(cat "$tmp/err")"
	fi
done
"$BIN" rule run --rules policies/*.rule --data tests/rule/no-such-dir --ref-date 2025-07-01 >/dev/null 2>"$tmp/err"
if [ $? -ne 0 ] && grep -q 'No such file' "$tmp/err"; then ok "run: missing data folder"; else notok "run: missing data folder" "$(cat "$tmp/err")"; fi
"$BIN" rule run --rules policies/*.rule --data tests/rule/data --ref-date 2025-02-30 >/dev/null 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q 'not YYYY-MM-DD' "$tmp/err"; then ok "run: bad reference date"; else notok "run: bad reference date"; fi

# 5. a batch run over the small registry: counts by outcome and blocking condition
run() { "$BIN" rule run --rules policies/*.rule --data tests/rule/data --ref-date 2025-07-01 "$@"; }
if run >"$tmp/run" 2>"$tmp/err"; then ok "run: 13 rules over tests/rule/data"; else notok "run" "$(cat "$tmp/err")"; fi
expect_line() {
	if grep -qF -- "$1" "$tmp/run"; then ok "run: $2"; else notok "run: $2 (want '$1')" "$(cat "$tmp/run")"; fi
}
expect_line "eligible 2   not eligible 12   unknown 1   conflict 0   amount 1200.00 yuan" "elderly allowance counts and amount"
expect_line "blocking:  c_age 10  c_local 2  c_not_receiving 1" "elderly allowance blocking counts"
expect_line "eligible 2   not eligible 4   unknown 1   conflict 0   amount 3920.00 yuan" "dibao counts"
expect_line "eligible 1   not eligible 2   unknown 1   conflict 0   amount 18000.00 yuan" "job stabilisation counts"
for t in 1 2; do
	run --threads $t --json >"$tmp/j$t" 2>/dev/null
done
# timings and memory vary from run to run; the outcomes must not
strip_measures() { sed 's/"eval_seconds":[0-9.]*//;s/"load_seconds":[0-9.]*//;s/"peak_rss_mb":[0-9]*//' "$1"; }
if cmp -s "$tmp/j1" "$tmp/j2" || [ "$(strip_measures "$tmp/j1")" = "$(strip_measures "$tmp/j2")" ]; then
	ok "run: one and two threads agree"
else
	notok "run: one and two threads differ"
fi
run --out "$tmp/out.csv" >/dev/null 2>&1
if head -1 "$tmp/out.csv" | grep -q '^rule,entity,id,outcome,amount,blocking$' &&
	grep -q '^elderly_allowance,person,P003,NOT_ELIGIBLE,,c_age$' "$tmp/out.csv" && grep -q '^dibao,household,H02,UNKNOWN,,$' "$tmp/out.csv" &&
	grep -q '^elderly_allowance,person,P014,ELIGIBLE,1000.00,$' "$tmp/out.csv" && grep -q '^elderly_allowance,person,P002,ELIGIBLE,200.00,$' "$tmp/out.csv"; then
	ok "run --out writes per-record outcomes, amounts and blocking conditions"
else
	notok "run --out" "$(head -5 "$tmp/out.csv")"
fi
# the amounts listed add up to the total the run prints
total=$(awk -F, '$1 == "elderly_allowance" && $4 == "ELIGIBLE" { s += $5 } END { printf "%.2f", s }' "$tmp/out.csv")
if [ "$total" = "1200.00" ]; then ok "run --out: per-record amounts add up to the total"; else notok "run --out amounts total $total"; fi
run --json >"$tmp/j" 2>/dev/null
if grep -q '"rule":"elderly_allowance".*"amount":1200.00,"amount_unknown":0,' "$tmp/j"; then
	ok "run --json: the eligible records whose amount is unknown are counted"
else
	notok "run --json amount_unknown" "$(cat "$tmp/j")"
fi

# 6. explain: JSON with values, sources and gap; sentences in both languages
ex() { "$BIN" rule explain --rules policies/*.rule --data tests/rule/data --ref-date 2025-07-01 "$@"; }
ex --id P003 --rule elderly_allowance >"$tmp/ex" 2>"$tmp/err"
if grep -q '"outcome":"NOT_ELIGIBLE","blocking":\["c_age"\]' "$tmp/ex" && grep -q '"gap":1,"gap_unit":"days"' "$tmp/ex" &&
	grep -q '"rec":"person/P003"' "$tmp/ex" && grep -q '相差 1 天' "$tmp/ex" && grep -q '(1 days short)' "$tmp/ex"; then
	ok "explain: blocking condition, source record, gap in days, zh and en"
else
	notok "explain P003" "$(cat "$tmp/ex" "$tmp/err")"
fi
ex --id H02 --rule dibao --json >"$tmp/ex" 2>&1
if grep -q '"outcome":"UNKNOWN"' "$tmp/ex" && grep -q '"missing_inputs":\["sum(members)"\]' "$tmp/ex"; then
	ok "explain: unknown outcome names the missing input"
else
	notok "explain H02" "$(cat "$tmp/ex")"
fi
ex --id P006 --rule talent_rent --json >"$tmp/ex" 2>&1
if grep -q '"exceptions_applied":\[{"id":"e_phd"' "$tmp/ex" && grep -q '"amount":3000.00' "$tmp/ex"; then
	ok "explain: applied exception and amount"
else
	notok "explain P006" "$(cat "$tmp/ex")"
fi
ex --id P001 >"$tmp/ex" 2>"$tmp/err"
if [ "$(grep -c '^{' "$tmp/ex")" -eq 7 ]; then ok "explain: one record against all 7 person rules"; else notok "explain all rules" "$(cat "$tmp/ex")"; fi
"$BIN" rule explain --rules tests/rule/lang.rule --data tests/rule/data --ref-date 2025-07-01 --id P011 --rule lang_conflict >"$tmp/ex" 2>/dev/null
if grep -q '"outcome":"CONFLICT"' "$tmp/ex" && grep -q '"exceptions_applied":\[{"id":"e_vet","to":"c_grade"' "$tmp/ex" &&
	grep -q '{"id":"e_local"' "$tmp/ex" && grep -q '需人工裁定' "$tmp/ex" && grep -q 'a person must decide' "$tmp/ex"; then
	ok "explain: a conflict names both exceptions and asks for a person to decide"
else
	notok "explain conflict" "$(cat "$tmp/ex")"
fi
"$BIN" rule explain --rules tests/rule/presence.rule --data tests/rule/data --ref-date 2025-07-01 --id P001 --rule no_disability --json >"$tmp/ex" 2>/dev/null
if grep -q '"disability_grade":{"v":0,"default":true' "$tmp/ex" && grep -q '"missing_inputs":\[\]' "$tmp/ex"; then
	ok "explain: a value absent from its registry shows the default coalesce() gave it"
else
	notok "explain coalesce" "$(cat "$tmp/ex")"
fi
"$BIN" rule explain --rules tests/rule/shared_defs.rule --data tests/rule/data --ref-date 2025-07-01 --id P002 --rule child_support --json >"$tmp/ex" 2>/dev/null
if grep -q '"household.income_pc":{"v":0.00,"src":"computed","rec":"household/H01"}' "$tmp/ex"; then
	ok "explain: a household's definition read from a person rule names the household"
else
	notok "explain shared definition" "$(cat "$tmp/ex")"
fi
printf 'P001\nP999\n\nP003\n' >"$tmp/ids"
ex --ids "$tmp/ids" --id P014 --rule elderly_allowance --json >"$tmp/ex" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ "$(grep -c '^{' "$tmp/ex")" -eq 3 ] && grep -q "no record with id 'P999'" "$tmp/err" &&
	grep -q 'explained 3 rules for 3 records' "$tmp/err"; then
	ok "explain: a list of ids (--ids FILE and --id again), a missing one reported"
else
	notok "explain a list (exit $rc)" "$(cat "$tmp/ex" "$tmp/err")"
fi
ex --id NOPE >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "no record with id 'NOPE'" "$tmp/err"; then ok "explain: unknown id"; else notok "explain: unknown id"; fi
ex --id P001 --rule dibao >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "is for household records" "$tmp/err"; then ok "explain: rule for another entity"; else notok "explain: wrong entity" "$(cat "$tmp/err")"; fi

# 7. what-if: only affected rules, gains and losses; a sweep; bad overrides
wi() { "$BIN" rule whatif --rules policies/*.rule --data tests/rule/data --ref-date 2025-07-01 "$@"; }
wi --set elderly_min_age=75 >"$tmp/wi" 2>"$tmp/err"
if grep -q '1 of 13 rules read the changed parameters' "$tmp/wi" && grep -q 'elderly_allowance *eligible 2 -> 4   gain 2   lose 0' "$tmp/wi"; then
	ok "whatif: lowering the age line gains two, re-evaluates one rule"
else
	notok "whatif age" "$(cat "$tmp/wi" "$tmp/err")"
fi
wi --set 'dibao_line[440303]=900.00' >"$tmp/wi" 2>"$tmp/err"
if grep -q 'dibao *eligible 2 -> 1   gain 0   lose 1' "$tmp/wi"; then ok "whatif: a region's line lowered loses one household"; else notok "whatif region" "$(cat "$tmp/wi" "$tmp/err")"; fi
wi --sweep 'elderly_min_age=70..90:5' >"$tmp/wi" 2>"$tmp/err"
if [ "$(grep -c '^  [0-9]' "$tmp/wi")" -eq 5 ] && grep -q '^  70  *4$' "$tmp/wi" && grep -q '^  90  *1$' "$tmp/wi" &&
	grep -q '5 values in 1 pass over the data' "$tmp/wi"; then ok "whatif: sweep of five values in one pass"; else notok "whatif sweep" "$(cat "$tmp/wi" "$tmp/err")"; fi
wi --set elderly_min_agee=75 >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "did you mean 'elderly_min_age'" "$tmp/err"; then ok "whatif: unknown parameter suggests a name"; else notok "whatif unknown param" "$(cat "$tmp/err")"; fi
wi --set elderly_min_age=abc >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "not a valid value" "$tmp/err"; then ok "whatif: bad value"; else notok "whatif bad value"; fi

# 8. dump shows readable bytecode
if "$BIN" rule dump policies/dibao.rule --ref-date 2025-07-01 2>/dev/null | grep -q 'kernel aggregate inputs over person'; then
	ok "dump: aggregate and rule kernels"
else
	notok "dump"
fi
"$BIN" rule test tests/rule/no-such.yaml >/dev/null 2>&1
if [ $? -eq 1 ]; then ok "test: a missing test file fails"; else notok "test: missing file"; fi

# 9. names in Chinese (tests/rule/zh): check, run --out, explain and what-if speak them
zh() {
	cmd=$1
	shift
	"$BIN" rule "$cmd" --rules tests/rule/zh/policy.rule --data tests/rule/zh --ref-date 2025-07-01 "$@"
}
if "$BIN" rule check tests/rule/zh/policy.rule >"$tmp/out" 2>"$tmp/err" && grep -q '^ok: 2 rules, 2 parameters, 2 definitions; 0 warnings' "$tmp/out" &&
	grep -q '人员.残疾等级 (残联)' "$tmp/out"; then
	ok "zh: a policy with Chinese names checks clean and lists what it reads"
else
	notok "zh check" "$(cat "$tmp/out" "$tmp/err")"
fi
zh run --out "$tmp/zh.csv" >"$tmp/run" 2>"$tmp/err"
if grep -q '^高龄津贴,人员,Z02,ELIGIBLE,500.00,$' "$tmp/zh.csv" && grep -q '^高龄津贴,人员,Z04,NOT_ELIGIBLE,,本市户籍$' "$tmp/zh.csv" &&
	grep -q '^低保,家庭,H2,ELIGIBLE,500.01,$' "$tmp/zh.csv" && grep -q 'blocking:  年满 1  本市户籍 1' "$tmp/run"; then
	ok "zh: run --out lists Chinese rule, entity and condition names with amounts"
else
	notok "zh run" "$(cat "$tmp/run" "$tmp/err" "$tmp/zh.csv")"
fi
zh explain --id Z03 --id H2 --json >"$tmp/ex" 2>"$tmp/err"
if grep -q '"entity":"人员/Z03","rule":"高龄津贴@1"' "$tmp/ex" && grep -q '"exceptions_applied":\[{"id":"重残","to":"年满"' "$tmp/ex" &&
	grep -q '"最低年龄":{"param":true,"v":80' "$tmp/ex" && grep -q '"entity":"家庭/H2","rule":"低保@1"' "$tmp/ex"; then
	ok "zh: explain names Chinese conditions, exceptions and parameters"
else
	notok "zh explain" "$(cat "$tmp/ex" "$tmp/err")"
fi
zh whatif --set 最低年龄=90 >"$tmp/wi" 2>"$tmp/err"
# the name's column is padded by display width: 高龄津贴 takes 8 of its 28
if grep -q '^  高龄津贴 \{21\}eligible 3 -> 2   gain 0   lose 1' "$tmp/wi"; then
	ok "zh: what-if on a Chinese parameter, the table aligned"
else
	notok "zh whatif" "$(cat "$tmp/wi" "$tmp/err")"
fi
zh whatif --set 最底年龄=90 >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "no parameter '最底年龄' (did you mean '最低年龄'?)" "$tmp/err"; then
	ok "zh: a mistyped Chinese parameter gets a suggestion"
else
	notok "zh whatif typo" "$(cat "$tmp/err")"
fi

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
