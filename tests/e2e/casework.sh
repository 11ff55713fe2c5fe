#!/bin/sh
# Case work through the command line: counselling notes (standard input and
# $EDITOR, leaving no temporary file), assessments, the service flow, the
# case summary in English and Indonesian, and the coverage indicator.
. tests/e2e/lib.sh

check "init creates a vault" new_vault
staff siti counselor --trained
staff rina social_worker
staff kepala supervisor
staff inspektur auditor
check "a counselor opens a case" \
	as siti case open --file "$(fixture intake_valid.json)"
C=$(cat "$T/out")
check "the supervisor puts the social worker on the team" \
	as kepala case assign "$C" rina

# Notes.
printf 'She talked about the safe word.\n' >"$T/note.txt"
check "note add reads the text from standard input" \
	as siti note add "$C" --kind initial --date 2025-05-21 <"$T/note.txt"
has "note add prints the record id" "$T/out" '^[0-9]+$'
check "note add --json names the record" \
	as siti --json note add "$C" <"$T/note.txt"
has "the object has the record" "$T/out" '"record": [0-9]+'
printf '  \n\n' >"$T/blank.txt"
refuse "an empty note is refused" 1 as siti note add "$C" <"$T/blank.txt"
has "it says the note is empty" "$T/err" "empty"
refuse "an unknown kind is refused" 1 \
	as siti note add "$C" --kind gossip <"$T/note.txt"
has "it names the field" "$T/err" "kind"
check "note show shows the notes to the counselor" as siti note show "$C"
has "the text is shown" "$T/out" "safe word"
check "note show --json" as siti --json note show "$C"
has "the JSON holds the text" "$T/out" '"text": "She talked about the safe word."'
has "the JSON holds the kind" "$T/out" '"kind": "initial"'
refuse "the social worker is refused the notes" 1 as rina note show "$C"
has "the refusal names the rule" "$T/err" "sw-no-notes"
check "the auditor reads the trail of the case" \
	as inspektur --json audit log --case "$C"
has "the refused note show is on the trail" "$T/out" '"action": "note.show"'
has "with a deny decision" "$T/out" '"decision": "deny"'
lacks "the note's text is not on the trail" "$T/out" "safe word"

# $EDITOR: a private temporary file, shredded and removed afterwards.
mkdir -p "$T/tmp"
cat >"$T/editor.sh" <<'EOF'
#!/bin/sh
[ "$(stat -c %a "$1")" = 600 ] || exit 3
[ "$(stat -c %a "$(dirname "$1")")" = 700 ] || exit 4
printf 'Written in the editor.\n' >"$1"
EOF
chmod +x "$T/editor.sh"
EDITOR="$T/editor.sh" TMPDIR="$T/tmp" check "note add --edit runs \$EDITOR" \
	as siti note add "$C" --edit </dev/null
has "the edited note is stored" "$T/out" '^[0-9]+$'
check "no temporary file is left behind" \
	test -z "$(ls -A "$T/tmp")"
check "the edited text is there" as siti note show "$C"
has "it reads as written" "$T/out" "Written in the editor."
printf '#!/bin/sh\nexit 0\n' >"$T/noop.sh"
chmod +x "$T/noop.sh"
EDITOR="$T/noop.sh" TMPDIR="$T/tmp" refuse \
	"a note left empty in the editor is refused" 1 \
	as siti note add "$C" --edit </dev/null
printf '#!/bin/sh\necho draft >"$1"\nexit 1\n' >"$T/fail.sh"
chmod +x "$T/fail.sh"
EDITOR="$T/fail.sh" TMPDIR="$T/tmp" refuse \
	"an editor that fails saves nothing" 1 \
	as siti note add "$C" --edit </dev/null
check "no temporary file is left after the refusals" \
	test -z "$(ls -A "$T/tmp")"
if command -v script >/dev/null 2>&1; then
	EDITOR="$T/editor.sh" TMPDIR="$T/tmp" CV="$CV" V="$V" PF="$T/pass.siti" \
		CASE="$C" script -qec \
		'"$CV" -V "$V" -u siti --passphrase-file "$PF" note add "$CASE"' \
		/dev/null >"$T/out" 2>"$T/err"
	has "on a terminal, note add opens \$EDITOR" "$T/out" '[0-9]+'
	check "and leaves no temporary file either" \
		test -z "$(ls -A "$T/tmp")"
fi

# Assessments.
echo '{"items": [2, 1, 0, 1, 1, 0, 2, 1, 0, 2, 1, 1, 1, 0, 1, 0, 1]}' \
	>"$T/hamd15.json"
check "assess scores HAM-D" as siti assess "$C" hamd --file "$T/hamd15.json"
has "it prints the total" "$T/out" '^total +15$'
has "it prints the severity" "$T/out" '^severity +moderate$'
check "assess --json" as siti --json assess "$C" hamd --file "$T/hamd15.json"
has "the JSON has the total" "$T/out" '"total": 15'
has "the JSON has the severity" "$T/out" '"severity": "moderate"'
check "assess --lang id" \
	as siti assess "$C" hamd --file "$T/hamd15.json" --lang id
has "the severity is in Indonesian" "$T/out" "Depresi sedang"
as siti --json case show "$C" >"$T/before" 2>/dev/null
echo '{"items": [2, 1, 0, 3, 1, 0, 2, 1, 0, 2, 1, 1, 1, 0, 1, 0, 1]}' \
	>"$T/bad1.json"
refuse "an item out of range is refused" 1 \
	as siti assess "$C" hamd --file "$T/bad1.json"
has "it names the item and the rule" "$T/err" "item 4: must be 0-2"
echo '{"items": [2, 1, 0, 1, 1, 0, 2, 1, 0, 2, 1, 1, 1, 0, 1, 0]}' \
	>"$T/bad2.json"
refuse "a missing item is refused" 1 \
	as siti assess "$C" hamd --file "$T/bad2.json"
has "it counts the items" "$T/err" "expected 17, got 16"
echo '{"items": [2, 1, 0, 1, 1, 0, 2, 1, 0, 2, 1, 1, 1, 0, 1, 0, 1, 1]}' \
	>"$T/bad3.json"
refuse "an extra item is refused" 1 \
	as siti assess "$C" hamd --file "$T/bad3.json"
has "it counts the items" "$T/err" "expected 17, got 18"
as siti --json case show "$C" >"$T/after" 2>/dev/null
check "nothing was written by the refused answers" cmp "$T/before" "$T/after"
refuse "the social worker may not assess" 1 \
	as rina assess "$C" hamd --file "$T/hamd15.json"
# Only assess writes an assessment: not typed, not rewritten by hand.
as siti assess "$C" hamd --file "$T/hamd15.json" >"$T/scored" 2>/dev/null
AR=$(sed -n 's/^record *//p' "$T/scored")
printf '{"instrument": "hamd", "version": 1, "items": [50, 49], "total": 99, "severity": "very severe", "date": "%s"}' \
	"$(date -u +%Y-%m-%d)" >"$T/forged.json"
refuse "record add of an assessment is refused" 1 \
	as siti record add "$C" --type assessment --file "$T/forged.json"
has "it points to assess" "$T/err" "use assess"
refuse "record amend of an assessment is refused" 1 \
	as siti record amend "$C" "$AR" --file "$T/forged.json"
has "it points to assess too" "$T/err" "use assess"
check "the scored result stands" as siti --json record show "$C" "$AR"
has "with its total" "$T/out" '"total": 15'
lacks "and no forged total" "$T/out" '"total": 99'
staff psi psychologist --trained
check "the psychologist joins the team" as kepala case assign "$C" psi
echo '{"items": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}' >"$T/hama14.json"
check "the psychologist scores HAM-A" \
	as psi assess "$C" hama --file "$T/hama14.json"
has "with its total" "$T/out" '^total +14$'
echo '{"items": [0, 1, 0, 1, 1, 0, 2, 1, 0, 2, 1, 1, 1, 0, 1, 0, 1]}' \
	>"$T/hamd13.json"
check "assess --record scores a correction as the next version" \
	as siti assess "$C" hamd --file "$T/hamd13.json" --record "$AR"
has "the same record" "$T/out" "^record +$AR\$"
has "its second version" "$T/out" '^version +2$'
has "with the new total" "$T/out" '^total +13$'
refuse "--record takes a number" 2 \
	as siti assess "$C" hamd --file "$T/hamd13.json" --record x
refuse "an intake is not re-scored" 1 \
	as siti assess "$C" hamd --file "$T/hamd13.json" --record 1

# The service flow.
refuse "a residential plan without a reason is refused" 1 \
	as rina record add "$C" --type service_plan \
	--file "$(fixture service_plan_bad_residential_no_reason.json)"
has "it names the field" "$T/err" "plan.reason"
check "the case starts at the referral" \
	as siti case step "$C" referral_received
refuse "skipping a required step is refused" 1 \
	as siti case step "$C" family_tracing
has "it says which step comes first" "$T/err" \
	"initial_counselling must come first"
refuse "an unknown step is refused" 1 as siti case step "$C" moon
has "it says so" "$T/err" "unknown step"
for step in initial_counselling schedule_agreed family_tracing safe_house \
	further_counselling interventions; do
	check "the case moves to $step" as siti case step "$C" "$step"
done
check "case step --json" \
	as siti --json case step "$C" followup_recommendation
has "it names the step" "$T/out" '"step": "followup_recommendation"'
check "a service plan goes on the record" as rina record add "$C" \
	--type service_plan --file "$(fixture service_plan_valid.json)"
echo '{"items": [4, 4, 4, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]}' \
	>"$T/hamd20.json"
check "a second HAM-D, worse" as siti assess "$C" hamd --file "$T/hamd20.json"

# The case summary (cv_case_summary, called by case show).
check "case show --json" as siti --json case show "$C"
has "the current step is shown" "$T/out" \
	'"step": "followup_recommendation"'
has "the step carries its Indonesian label" "$T/out" \
	"Rekomendasi penanganan tindak lanjut"
has "the timeline holds the service plan" "$T/out" \
	'"type": "service_plan"'
has "the worsening is flagged" "$T/out" '"worsened": true'
check "case show --lang id" as siti case show "$C" --lang id
has "the labels are in Indonesian" "$T/out" \
	"Konseling awal dan pemeriksaan kondisi psikis"
check "case show as the social worker" as rina --json case show "$C"
lacks "she sees no assessment scores" "$T/out" '"total"'

check "the case closes from the follow-up recommendation" \
	as siti case step "$C" closed
refuse "closed is final" 1 as siti case step "$C" further_counselling
has "it says so" "$T/err" "closed"

# Early close: the reason stays out of the trail.
check "a second case" as siti case open --file "$(fixture intake_valid.json)"
C2=$(cat "$T/out")
check "it starts" as siti case step "$C2" referral_received
refuse "closing early without a reason is refused" 1 \
	as siti case step "$C2" closed
has "it asks for a reason" "$T/err" "needs a recorded reason"
check "closing early with a reason" \
	as siti case step "$C2" closed --reason "Moved to Jember with her sister"
check "the auditor reads the trail" as inspektur --json audit log --case "$C2"
has "the step is on the trail" "$T/out" '"action": "case.step"'
lacks "the reason is not" "$T/out" "Jember"

# The coverage indicator.
Y=$(date -u +%Y)
check "the supervisor produces the indicator" \
	as kepala report indicator --year "$Y"
has "it prints the percentage" "$T/out" "^percent +50.0$"
check "report indicator --json" as kepala --json report indicator --year "$Y"
has "two survivors handled" "$T/out" '"denominator": 2'
has "one served by a trained officer" "$T/out" '"numerator": 1'
lacks "no case id in the report" "$T/out" "$C"
lacks "no name in the report" "$T/out" "Sari"
check "report indicator --csv" as kepala report indicator --year "$Y" --csv
has "the CSV has its header" "$T/out" \
	"^year,breakdown,group,numerator,denominator,percent$"
has "and the total row" "$T/out" "^$Y,total,all,1,2,50.0$"
refuse "a counselor may not produce it" 1 \
	as siti report indicator --year "$Y"
refuse "a year is required" 2 as kepala report indicator
refuse "a year out of range is the library's refusal" 1 \
	as kepala report indicator --year 1800
has "and it names the years there can be" "$T/err" "year: must be 1900-9999"

finish
