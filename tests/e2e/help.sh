#!/bin/sh
# The help repeats no list the library owns: every list in it is the
# library's own, filled in when the help is shown, so no help is left
# with a placeholder and each list is whole.
. tests/e2e/lib.sh

PLACEHOLDER='\{[a-z_]+\}'

# Positive control: the pattern finds a placeholder left in a text.
printf 'ROLE is one of {roles}.\n' >"$T/planted"
has "the placeholder pattern finds one" "$T/planted" "$PLACEHOLDER"

# Every command, as the list of commands names it: the leading words of
# each synopsis (the group, and the verb when there is one).
check "--help lists the commands" "$CV" --help
sed -n 's/^  \([a-z][a-z]*\)\( [a-z][a-z]*\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p' \
	"$T/out" | sed 's/ *$//' >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 30 ] && ok "it names every command" ||
	not_ok "it names every command (only $(wc -l <"$T/commands"))"
n=0
bad=0
while read -r cmd; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # the group and verb are two words
	if ! "$CV" $cmd --help >"$T/help" 2>&1; then
		echo "    $cmd --help failed"
		bad=$((bad + 1))
	elif ! grep -q "^usage: casevault $cmd" "$T/help"; then
		echo "    $cmd --help is not its help"
		bad=$((bad + 1))
	elif grep -Eq "$PLACEHOLDER" "$T/help"; then
		echo "    $cmd --help: $(grep -Eo "$PLACEHOLDER" "$T/help" | head -1)"
		bad=$((bad + 1))
	fi
done <"$T/commands"
if [ "$bad" -eq 0 ]; then ok "no help of $n leaves a placeholder"; else
	not_ok "$bad of $n helps are wrong"
fi

# The purposes, from the library's own table (rules/consent.c), each in
# the help of consent grant, and the lists there are filled in.
sed -n '/purposes\[\] = {/,/};/p' src/rules/consent.c |
	grep -o '"[a-z_]*"' | tr -d '"' >"$T/purposes"
[ "$(wc -l <"$T/purposes")" -ge 1 ] && ok "the library has purposes" ||
	not_ok "the library has purposes"
check "consent grant --help" "$CV" consent grant --help
tr '\n' ' ' <"$T/out" >"$T/flat"
while read -r p; do
	has "consent grant --help names $p" "$T/flat" "[ ,]$p[,. ]"
done <"$T/purposes"

# The roles and steps, likewise, in the helps that take them.
check "user add --help" "$CV" user add --help
tr '\n' ' ' <"$T/out" >"$T/flat"
sed -n '/role_names\[CV_ROLE_COUNT\] = {/,/};/p' src/base/roles.c |
	grep -o '"[a-z_]*"' | tr -d '"' >"$T/roles"
while read -r r; do
	has "user add --help names $r" "$T/flat" "[ ,]$r[,. ]"
done <"$T/roles"
check "case step --help" "$CV" case step --help
tr '\n' ' ' <"$T/out" >"$T/flat"
grep -o '"key": *"[a-z_]*"' forms/flow.json | sed 's/.*"\([a-z_]*\)"$/\1/' \
	>"$T/steps"
while read -r st; do
	has "case step --help names $st" "$T/flat" "[ ,]$st[,. ]"
done <"$T/steps"

finish
