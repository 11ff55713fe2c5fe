#!/bin/sh
# The access gate through the command line: legal aid before and after
# consent and approval, redaction, withdrawal, break-glass and its review,
# disclosure on a legal basis, policy check, explain and deploy.
. tests/e2e/lib.sh

new_vault
staff siti counselor --trained
staff rina social_worker
staff kepala supervisor
staff inspektur auditor
staff andi legal_aid
staff dewi counselor
as siti case open --file "$(fixture intake_valid.json)" >"$T/case"
C=$(cat "$T/case")
printf 'Session notes: she is afraid of her husband.\n' |
	as siti note add "$C" >/dev/null 2>&1 ||
	as siti record add "$C" --type note --file "$(fixture note_valid.json)" \
		>/dev/null 2>&1

# Legal aid: nothing before consent.
refuse "legal aid cannot read the case" 1 as andi record show "$C" 1
check "legal aid files a request" \
	as andi request create "$C" --classes incident --purpose legal_proceeding
R=$(cat "$T/out")
has "the request has an id" "$T/out" '^R[0-9A-Z]{10}$'
refuse "approval without consent is refused" 1 as kepala request approve "$R"
has "it says no consent covers it" "$T/err" "no valid consent covers class incident"
refuse "a pending request fetches nothing" 1 as andi request fetch "$R"

# Consent for incident only, to legal aid, for legal proceedings.
refuse "a consent needs a form reference" 2 \
	as siti consent grant "$C" --to legal_aid --classes incident \
	--purpose legal_proceeding
refuse "an unknown purpose is refused" 1 \
	as siti consent grant "$C" --to legal_aid --classes incident \
	--purpose gossip --form F-1
refuse "a counselor off the team cannot record consent" 1 \
	as dewi consent grant "$C" --to legal_aid --classes incident \
	--purpose legal_proceeding --form F-1
check "the counselor records the survivor's consent" \
	as siti consent grant "$C" --to legal_aid --classes incident \
	--purpose legal_proceeding --form "FORM-2025-017"
K=$(cat "$T/out")
check "consent list shows it" as siti --json consent list "$C"
has "with its purpose" "$T/out" '"purpose": "legal_proceeding"'
refuse "legal aid still cannot read directly" 1 as andi record show "$C" 1
refuse "a request beyond the consent cannot be approved" 1 sh -c "
	R2=\$(\"$CV\" -V \"$V\" -u andi --passphrase-file \"$T/pass.andi\" \
		request create \"$C\" --classes incident,identity \
		--purpose legal_proceeding 2>/dev/null)
	\"$CV\" -V \"$V\" -u kepala --passphrase-file \"$T/pass.kepala\" \
		request approve \"\$R2\""
check "the supervisor approves the request" as kepala request approve "$R"
check "legal aid fetches" as andi --json request fetch "$R"
cp "$T/out" "$T/fetch.json"
has "the incident is there" "$T/fetch.json" '"violence_types"'
lacks "no identity field" "$T/fetch.json" 'Sari Contoh|3510015203950001|birth_date|"nik"'
lacks "no contact field" "$T/fetch.json" 'Jl. Contoh|safe_channel|"phone"'
lacks "no counselling note" "$T/fetch.json" 'afraid of her husband|session_date'
has "withheld classes are named" "$T/fetch.json" '"withheld": \['
has "identity is listed as withheld" "$T/fetch.json" '"identity"'
check "human output says what was withheld" as andi request fetch "$R"
has "a withheld line" "$T/out" '^withheld: '
refuse "someone else cannot use the request" 1 as rina request fetch "$R"

# Withdrawal ends it at once.
check "the survivor withdraws consent" as siti consent withdraw "$C" "$K"
refuse "legal aid is refused again" 1 as andi request fetch "$R"
refuse "a withdrawn consent cannot be withdrawn twice" 1 \
	as siti consent withdraw "$C" "$K"

# Every decision is in the trail, with its rule.
check "the auditor reads the log for the case" \
	as inspektur --json audit log --case "$C" --actor andi
has "the refused read is there" "$T/out" '"decision": "deny"'
has "with the rule" "$T/out" '"rule": "default-deny|"rule": "la-'
has "the fetch is recorded as a disclosure" "$T/out" '"action": "disclosure"'
has "with a keyed hash of each version" "$T/out" '"hash": "[0-9a-f]{64}"'
has "the allowed fetch names its consent" "$T/out" "\"consent\": \"$K\""
lacks "no survivor data in the log" "$T/out" 'Sari|3510015203950001|Contoh'

# Break-glass.
refuse "legal aid may not break the glass" 1 \
	as andi breakglass "$C" --reason "urgent court hearing tomorrow"
refuse "a reason is required" 2 as dewi breakglass "$C"
refuse "a short reason is refused" 1 as dewi breakglass "$C" --reason "x"
refuse "dewi is not on the team" 1 as dewi record show "$C" 1
check "dewi, on call, opens a window" \
	as dewi breakglass "$C" --reason "survivor called the hotline at night, in danger" --minutes 30
check "inside the window she reads what safety needs" as dewi --json record show "$C" 1
has "flagged as break-glass" "$T/out" '"breakglass": true'
has "identity is readable" "$T/out" 'Sari Contoh'
refuse "never the counselling notes" 1 as dewi note show "$C"
check "the review queue lists it" as kepala --json breakglass list
has "with the reason, for the reviewer" "$T/out" 'hotline at night'
B=$(grep -o '"id": "B[0-9A-Z]*"' "$T/out" | head -1 | cut -d'"' -f4)
check "the auditor finds the flagged access" as inspektur --json audit log --breakglass
has "the read under the window is flagged" "$T/out" "\"breakglass\": \"$B\""
lacks "the reason is not in the trail" "$T/out" 'hotline'
refuse "a counselor cannot review" 1 as siti breakglass review "$B"
refuse "not while the window is open" 1 as kepala breakglass review "$B"
check "so it stays in the queue" as kepala --json breakglass list
has "the window waits for its review" "$T/out" "$B"

# Disclosure on a legal basis (police report under UU TPKS art. 41).
refuse "a counselor cannot disclose" 1 \
	as siti disclose "$C" --classes incident --legal-basis tpks_police_report --to police
refuse "a legal basis from the list is required" 1 \
	as kepala disclose "$C" --classes incident --legal-basis because --to police
has "the refusal names the list" "$T/err" 'one of tpks_police_report, court_order, child_protection, medical_emergency, law_enforcement'
refuse "a recipient from the list is required" 1 \
	as kepala disclose "$C" --classes incident --legal-basis court_order --to neighbour
has "... and names that list" "$T/err" 'one of police, court, prosecutor, health_service, social_service, other'
refuse "counselling notes are never disclosed this way" 1 \
	as kepala disclose "$C" --classes counseling_note --legal-basis court_order --to court
check "the supervisor discloses the incident to police" \
	as kepala --json disclose "$C" --classes incident --legal-basis tpks_police_report --to police --note "Polres reference 123"
has "the incident is disclosed" "$T/out" '"violence_types"'
lacks "nothing else" "$T/out" 'Sari Contoh|Jl. Contoh'
check "the disclosure is in the review queue" as inspektur --json breakglass list
has "as a disclosure" "$T/out" '"kind": "disclosure"'
check "the trail names the legal basis" as inspektur --json audit log --case "$C"
has "tpks_police_report" "$T/out" '"legal_basis": "tpks_police_report"'
lacks "not the free-text note" "$T/out" 'Polres reference'

# Policies: check, explain, deploy.
check "the shipped policies lint clean" "$CV" policy check policies
has "no findings" "$T/out" "no findings"
mkdir -p "$T/badpol"
cp policies/*.policy "$T/badpol/"
printf 'rule x-bad allow read idnetity when team\n' >>"$T/badpol/counselor.policy"
refuse "a malformed policy is refused" 1 "$CV" policy check "$T/badpol"
has "with file, line and reason" "$T/err" "counselor.policy:[0-9]+: .*idnetity"
refuse "deploying it is refused" 1 as admin policy deploy "$T/badpol"
has "and the vault keeps its policy" "$T/err" "keeps its policy"
check "the vault still works as before" as siti record show "$C" 1
refuse "a counselor cannot deploy policy" 1 as siti policy deploy policies
refuse "explain is oversight's, not a counselor's" 1 \
	as siti policy explain --user siti --action read --case "$C" --class identity
has "saying whose it is" "$T/err" "supervisors, auditors and administrators"
check "a supervisor explains her own access" \
	as kepala policy explain --user kepala --action read --case "$C" --class identity
has "each gate's verdict" "$T/out" "role policy : deny by rule default-deny"
check "an auditor explains for legal aid" \
	as inspektur --json policy explain --user andi --action read --case "$C" --class incident --purpose legal_proceeding
has "consent withdrawn shows" "$T/out" '"consent": "withdrawn"'
has "refused" "$T/out" '"decision": "deny"'
refuse "a counselor cannot explain others" 1 \
	as siti policy explain --user andi --action read --case "$C"
cp -r policies "$T/newpol"
sed -i 's/^rule co-bg-open allow breakglass.open when true$/rule co-bg-open deny breakglass.open/' "$T/newpol/counselor.policy"
check "the admin deploys a changed policy" as admin policy deploy "$T/newpol"
refuse "the change is in force" 1 \
	as dewi breakglass "$C" --reason "survivor called the hotline at night, in danger"
check "the deployment is in the trail" as inspektur --json audit log --actor admin
has "with both hashes" "$T/out" '"new_policy": "[0-9a-f]{64}"'
check "the whole trail still verifies" as inspektur audit verify

# A guardian's consent for a child: the alleged stepfather, written with a
# title in the intake, is refused however he is named; the mother grants.
BORN=$(($(date -u +%Y) - 10))-06-01
sed -e "s/2007-06-01/$BORN/" \
	-e 's/"relationship": "recruiter"/"relationship": "stepfather", "name": "Pak Sugeng Fiktif"/' \
	"$(fixture intake_child_valid.json)" >"$T/child.json"
check "a child's case is opened" as siti case open --file "$T/child.json"
CC=$(cat "$T/out")
refuse "a guardian's name is not taken from the command line" 2 \
	as siti consent grant "$CC" --to psychologist --classes assessment \
	--purpose counselling --form F-9 --by "guardian:Sugeng" \
	--relationship stepfather --assent
refuse "a guardian needs a relationship" 2 \
	as siti consent grant "$CC" --to psychologist --classes assessment \
	--purpose counselling --form F-9 --by guardian --assent
printf '{"name": "Bapak SUGENG fiktif"}' >"$T/guardian.json"
refuse "a relationship outside the vocabulary is refused" 1 \
	as siti consent grant "$CC" --to psychologist --classes assessment \
	--purpose counselling --form F-9 --by guardian --assent \
	--relationship "bapak tiri" --file "$T/guardian.json"
has "it names the vocabulary" "$T/err" "relationship vocabulary"
refuse "the alleged perpetrator cannot consent for the child" 1 \
	as siti consent grant "$CC" --to psychologist --classes assessment \
	--purpose counselling --form F-9 --by guardian --assent \
	--relationship uncle --file "$T/guardian.json"
has "refused as the alleged perpetrator" "$T/err" "alleged perpetrator"
has "pointing to disclosure" "$T/err" "disclose"
lacks "without the name" "$T/err" "[Ss]ugeng|SUGENG"
check "the refusal is on the trail" as inspektur --json audit log
has "with its reason" "$T/out" '"refusal": "guardian_alleged_perpetrator"'
lacks "and without the name" "$T/out" "[Ss]ugeng|SUGENG"
printf 'Ibu Siti Fiktif\n' >"$T/mother"
check "the mother grants, her name read from standard input" \
	sh -c "\"$CV\" -V \"$V\" -u siti --passphrase-file \"$T/pass.siti\" \
	consent grant \"$CC\" --to psychologist --classes assessment \
	--purpose counselling --form F-9 --by guardian --assent \
	--relationship mother <\"$T/mother\""
has "a consent id" "$T/out" '^K[0-9A-Z]+'
check "consent grant --help lists the relationships" \
	"$CV" consent grant --help
has "mother and stepfather among them" "$T/out" "mother, father, stepmother, stepfather"
finish
