#!/bin/sh
# Rules of the code that a reviewer would otherwise have to remember:
# the gate is the only path to a decrypted record, the library prints
# nothing but two named warnings, no passphrase comes from the
# environment, no secret-looking option exists on the command line, the
# layers of src/ depend only downwards, the rules do no I/O, only the
# gate and the session code commit audit events, and the command reaches
# a session's work only through the dispatcher.
. tests/e2e/lib.sh

# Files other than the format and the gate that name cv_rec_decrypt.
grep -l 'cv_rec_decrypt' src/*/*.c | grep -v -e '^src/model/recstore.c$' \
	-e '^src/gate/gate.c$' >"$T/decrypters" || true
if [ -s "$T/decrypters" ]; then
	not_ok "only src/gate/gate.c opens records (also: $(cat "$T/decrypters"))"
else
	ok "only src/gate/gate.c opens records"
fi
grep -c 'cv_rec_decrypt(' src/gate/gate.c >"$T/n"
has "and the gate does call it" "$T/n" '^[1-9]'

# The library does not print: only the command and the daemon do
# (src/cli/, src/daemon/). The one exception, one call, warns on stderr
# about the test-only KDF setting (passphrase.c).
P='\b(printf|fprintf|puts|fputs|perror|putchar|fwrite)\('
grep -l -E "$P" src/*/*.c | grep -v -e '^src/cli/' -e '^src/daemon/' |
	grep -v -e '^src/base/passphrase.c$' \
	>"$T/prints" || true
for f in src/base/passphrase.c; do
	[ "$(grep -c -E "$P" "$f")" -le 1 ] || echo "$f" >>"$T/prints"
done
if [ -s "$T/prints" ]; then
	not_ok "the library prints nothing"
	sed 's/^/    /' "$T/prints"
else
	ok "the library prints nothing"
fi

# getenv: the test-only KDF switch, the vault and user names, the daemon's
# socket and the directory of the command's session tokens, no more.
grep -n 'getenv(' src/*/*.c |
	grep -v -e 'CASEVAULT_TEST_KDF' -e 'CASEVAULT_DIR' -e 'CASEVAULT_USER' \
	-e 'CASEVAULT_SOCKET' -e 'XDG_RUNTIME_DIR' \
	-e 'EDITOR' -e 'TMPDIR' >"$T/env" || true
if [ -s "$T/env" ]; then
	not_ok "no other environment variable is read"
	sed 's/^/    /' "$T/env"
else
	ok "no other environment variable is read"
fi

# No option takes a passphrase value on the command line.
if grep -n -E '\{"(passphrase|password|pass|secret|key)", (0|'"'"'.'"'"')' src/cli/*.c; then
	not_ok "no option carries a passphrase"
else
	ok "no option carries a passphrase"
fi
refuse "a passphrase-looking option is refused" 2 \
	"$CV" -V "$T/x" -u admin --passphrase hunter2 case list

# The command uses the public header only: it includes no header of the
# library's, and the Makefile compiles it without -Isrc.
grep -n '#include "' src/cli/*.c src/cli/*.h |
	grep -v -e '"cli\.h"$' -e '"casevault\.h"$' >"$T/cli_inc" || true
if [ -s "$T/cli_inc" ]; then
	not_ok "src/cli includes only cli.h and casevault.h"
	sed 's/^/    /' "$T/cli_inc"
else
	ok "src/cli includes only cli.h and casevault.h"
fi
MAKEFLAGS= make -n -B BUILD="$T/b" "$T/b/src/cli/main.o" 2>/dev/null | grep -e ' -c ' >"$T/cli_cc"
has "src/cli is compiled with -Iinclude" "$T/cli_cc" ' -Iinclude '
lacks "and without -Isrc" "$T/cli_cc" ' -Isrc( |$)'

# The daemon too: it holds the keys, and reaches them through the public
# header alone, as the command does.
grep -n '#include "' src/daemon/*.c src/daemon/*.h |
	grep -v -e '"daemon\.h"$' -e '"casevault\.h"$' >"$T/daemon_inc" || true
if [ -s "$T/daemon_inc" ]; then
	not_ok "src/daemon includes only daemon.h and casevault.h"
	sed 's/^/    /' "$T/daemon_inc"
else
	ok "src/daemon includes only daemon.h and casevault.h"
fi
MAKEFLAGS= make -n -B BUILD="$T/b" "$T/b/src/daemon/main.o" 2>/dev/null |
	grep -e ' -c ' >"$T/daemon_cc"
has "src/daemon is compiled with -Iinclude" "$T/daemon_cc" ' -Iinclude '
lacks "and without -Isrc" "$T/daemon_cc" ' -Isrc( |$)'

# No LMDB outside the store: only src/store/ includes lmdb.h or names an
# MDB_ type or constant or an mdb_ function; the rest of the library, the
# tests, the benchmarks and the fuzz targets use src/store/store.h.
# lmdb_outside ROOT lists the offending lines of the C files under ROOT.
lmdb_outside() {
	(cd "$1" && grep -rnE --include='*.c' --include='*.h' --include='*.inc' \
		'\b(MDB_|mdb_)|#[[:space:]]*include[[:space:]]*[<"]lmdb\.h' \
		src tests bench fuzz 2>/dev/null) | grep -v '^src/store/' || true
}
# The check first finds what is planted in a copy, and leaves the store be.
P=$T/plant
mkdir -p "$P/src/ops" "$P/src/store" "$P/tests" "$P/bench" "$P/fuzz"
printf 'static MDB_txn *t;\n' >"$P/src/ops/x.c"
printf '#include <lmdb.h>\n' >"$P/tests/t.c"
printf 'void f(void) { mdb_txn_abort(0); }\n' >"$P/bench/b.c"
printf '#include <lmdb.h>\nstatic MDB_env *e;\n' >"$P/src/store/s.c"
printf 'static int cmdb_x, XMDB_Y;\n' >"$P/fuzz/f.c"
lmdb_outside "$P" >"$T/lmdb.plant"
has "the LMDB check finds an MDB_ type in src/ops" "$T/lmdb.plant" \
	'^src/ops/x\.c:1:'
has "... an lmdb.h include in tests" "$T/lmdb.plant" '^tests/t\.c:1:'
has "... an mdb_ call in bench" "$T/lmdb.plant" '^bench/b\.c:1:'
lacks "... and nothing in the store or a longer name" "$T/lmdb.plant" \
	'^(src/store|fuzz)/'
lmdb_outside "$PWD" >"$T/lmdb"
if [ -s "$T/lmdb" ]; then
	not_ok "no LMDB name outside src/store/"
	sed 's/^/    /' "$T/lmdb"
else
	ok "no LMDB name outside src/store/"
fi
# Layers depend only downwards: a file under src/LAYER/ includes headers
# of its own layer and of the layers below it, and no other folder of src/
# than a layer and the command (checked above) holds code.
#   base < store, audit < model < rules (pure) < gate < ops
# and the dispatcher, above ops, sees the public header and the base only
# (its errors and memory), so it does no more than a client of the
# library could.
# climbs ROOT lists "FILE includes LAYER/" for each include that climbs.
climbs() {
	(cd "$1" && for f in src/*/*.[ch]; do
		[ -f "$f" ] || continue
		l=${f#src/}
		l=${l%%/*}
		case $l in
		base) ok=base ;;
		store) ok="base store" ;;
		audit) ok="base audit" ;;
		model) ok="base store model" ;;
		rules) ok="base rules" ;;
		gate) ok="base store audit model rules gate" ;;
		ops) ok="base store audit model rules gate ops" ;;
		dispatch) ok="base dispatch" ;;
		cli | daemon) continue ;;
		*)
			echo "$f is in no layer"
			continue
			;;
		esac
		grep -o '^#include "[a-z_]*/' "$f" | sed 's/#include "//;s|/||' |
			sort -u | while read -r i; do
			case " $ok " in
			*" $i "*) ;;
			*) echo "$f includes $i/" ;;
			esac
		done
	done)
}
P=$T/plant_layers
mkdir -p "$P/src/model" "$P/src/gate" "$P/src/rules" "$P/src/ops" \
	"$P/src/cli" "$P/src/extra" "$P/src/dispatch"
printf '#include "rules/policy.h"\n#include "store/store.h"\n' \
	>"$P/src/model/m.c"
printf '#include "ops/case.h"\n#include "model/casemeta.h"\n' \
	>"$P/src/gate/g.c"
printf '#include "base/util.h"\n#include "store/store.h"\n' >"$P/src/rules/r.h"
printf '#include "gate/gate.h"\n#include "ops/session.h"\n' >"$P/src/ops/o.c"
printf '#include "ops/x.h"\n' >"$P/src/cli/c.c"
printf 'int x;\n' >"$P/src/extra/e.c"
printf '#include "base/error.h"\n#include "ops/record.h"\n' \
	>"$P/src/dispatch/d.c"
printf '#include "dispatch/dispatch.h"\n' >"$P/src/ops/p.c"
climbs "$P" >"$T/climbs.plant"
has "the layer check finds model including rules/" "$T/climbs.plant" \
	'^src/model/m\.c includes rules/$'
has "... the gate including ops/" "$T/climbs.plant" \
	'^src/gate/g\.c includes ops/$'
has "... a header of the rules including store/" "$T/climbs.plant" \
	'^src/rules/r\.h includes store/$'
has "... a folder that is no layer" "$T/climbs.plant" \
	'^src/extra/e\.c is in no layer$'
has "... the dispatcher including ops/" "$T/climbs.plant" \
	'^src/dispatch/d\.c includes ops/$'
has "... and ops including dispatch/" "$T/climbs.plant" \
	'^src/ops/p\.c includes dispatch/$'
lacks "... and no include of a layer below or of its own" "$T/climbs.plant" \
	'^src/(model/m\.c includes store|gate/g\.c includes model|rules/r\.h includes base|dispatch/d\.c includes base)/$|^src/(ops/o\.c|cli)'
climbs "$PWD" >"$T/climbs"
if [ -s "$T/climbs" ]; then
	not_ok "every include in src/ stays in its layer or goes down"
	sed 's/^/    /' "$T/climbs"
else
	ok "every include in src/ stays in its layer or goes down"
fi

# One dispatcher: the command calls no public function that takes a
# session but those that open, describe and close it and cv_dispatch, so
# what a command does in a session is done by the dispatcher's handler,
# the same in the command's process and in the daemon. session_calls ROOT
# lists the calls of src/cli/ to the others.
session_calls() {
	(cd "$1" && tr '\n' ' ' <include/casevault.h |
		grep -oE 'cv_[a-z0-9_]+\( *(const )?struct cv_session \*' |
		sed 's/(.*//' | sort -u |
		grep -v -x -e cv_session_close -e cv_session_clock_behind \
			-e cv_session_user -e cv_session_role -e cv_dispatch |
		while read -r fn; do
			grep -Hn "\b$fn(" src/cli/*.c 2>/dev/null
		done) || true
}
P=$T/plant_dispatch
mkdir -p "$P/include" "$P/src/cli"
printf 'int cv_case_show(struct cv_session *s, const char *id);\nint cv_dispatch(\n    struct cv_session *s, const json_t *req);\nvoid cv_session_close(struct cv_session *s);\nint cv_policy_check(const char *dir);\n' \
	>"$P/include/casevault.h"
printf 'r = cv_case_show(s, id);\nr = cv_dispatch(s, req);\ncv_session_close(s);\nr = cv_policy_check(d);\nr = my_cv_case_show(s);\n' \
	>"$P/src/cli/x.c"
session_calls "$P" >"$T/dispatch.plant"
has "the dispatcher check finds a session call in the command" \
	"$T/dispatch.plant" '^src/cli/x\.c:1:'
lacks "... and passes the dispatcher, the session's close and a local call" \
	"$T/dispatch.plant" '^src/cli/x\.c:[2-5]:'
session_calls "$PWD" >"$T/dispatch"
if [ -s "$T/dispatch" ]; then
	not_ok "the command does a session's work only through cv_dispatch"
	sed 's/^/    /' "$T/dispatch"
else
	ok "the command does a session's work only through cv_dispatch"
fi

# The rules are pure: no file, directory or descriptor I/O in src/rules/.
# rules_io ROOT lists the offending lines.
rules_io() {
	(cd "$1" && grep -nE \
		'\b(fopen|open|openat|opendir|readdir|stat|lstat|read|write|unlink|mkdir|cv_read_file|cv_write_file_excl)\(|#[[:space:]]*include[[:space:]]*<(dirent|fcntl|unistd|sys/stat)\.h>' \
		src/rules/*.[ch] 2>/dev/null) || true
}
P=$T/plant_rules
mkdir -p "$P/src/rules"
printf '#include <dirent.h>\nstatic int x(void) { return cv_read_file(0, 0, 0, 0); }\n' \
	>"$P/src/rules/a.c"
printf 'static int cv_policy_read(void);\nstatic int reopen(void);\n' \
	>"$P/src/rules/b.c"
rules_io "$P" >"$T/rules_io.plant"
has "the I/O check finds a directory header in the rules" \
	"$T/rules_io.plant" '^src/rules/a\.c:1:'
has "... and a file read" "$T/rules_io.plant" '^src/rules/a\.c:2:'
lacks "... and no longer name that ends alike" "$T/rules_io.plant" \
	'^src/rules/b\.c'
rules_io "$PWD" >"$T/rules_io"
if [ -s "$T/rules_io" ]; then
	not_ok "src/rules/ does no I/O"
	sed 's/^/    /' "$T/rules_io"
else
	ok "src/rules/ does no I/O"
fi

# Audit events are authored by the gate; the session code (login, vault
# creation, recovery) is the only other caller of cv_event_commit.
# event_authors ROOT lists the other files of src/ that call it.
event_authors() {
	(cd "$1" && grep -l 'cv_event_commit(' src/*/*.c 2>/dev/null) |
		grep -v -e '^src/gate/' -e '^src/ops/session\.c$' || true
}
P=$T/plant_events
mkdir -p "$P/src/gate" "$P/src/ops"
printf 'int f(void) { return cv_event_commit(s, ev, 0, 0); }\n' \
	>"$P/src/ops/consent.c"
cp "$P/src/ops/consent.c" "$P/src/ops/session.c"
cp "$P/src/ops/consent.c" "$P/src/gate/gate.c"
event_authors "$P" >"$T/events.plant"
has "the event check finds a commit in another ops file" \
	"$T/events.plant" '^src/ops/consent\.c$'
lacks "... and none in the gate or the session code" "$T/events.plant" \
	'^src/(gate/gate|ops/session)\.c$'
event_authors "$PWD" >"$T/events"
if [ -s "$T/events" ]; then
	not_ok "only the gate and src/ops/session.c commit audit events"
	sed 's/^/    /' "$T/events"
else
	ok "only the gate and src/ops/session.c commit audit events"
fi
# A module's private header (internal.h, NAME_int.h) is included only by
# the files of its own folder. private_includes ROOT lists the others.
private_includes() {
	(cd "$1" && grep -nE '^#include "[a-z_]+/([a-z_]+_int|internal)\.h"' \
		src/*/*.[ch] tests/*.c bench/*.c fuzz/*.c 2>/dev/null) |
		while IFS=: read -r f n line; do
			h=${line#*\"}
			h=${h%\"}
			case $f in "src/${h%%/*}/"*) ;; *) echo "$f:$n $h" ;; esac
		done
}
P=$T/plant_private
mkdir -p "$P/src/audit" "$P/src/ops" "$P/tests"
printf '#include "audit/internal.h"\n' >"$P/src/audit/queue.c"
printf '#include "audit/internal.h"\n' >"$P/src/ops/audit.c"
printf '#include "rules/policy_int.h"\n' >"$P/tests/test_x.c"
private_includes "$P" >"$T/private.plant"
has "the private-header check finds one included from another folder" \
	"$T/private.plant" '^src/ops/audit\.c:1 audit/internal\.h$'
has "... and from a test" "$T/private.plant" \
	'^tests/test_x\.c:1 rules/policy_int\.h$'
lacks "... and none from its own folder" "$T/private.plant" '^src/audit/'
private_includes "$PWD" >"$T/private"
if [ -s "$T/private" ]; then
	not_ok "private headers stay in their module"
	sed 's/^/    /' "$T/private"
else
	ok "private headers stay in their module"
fi

# Every public function that can fail starts by clearing the thread's
# error detail, so the detail never speaks of an earlier call. The ones
# that cannot fail leave it. stale_details ROOT lists the functions of
# include/casevault.h whose definition does not clear it first.
stale_details() {
	(cd "$1" && grep -hoE '\bcv_[a-z0-9_]+\($' include/casevault.h |
		tr -d '(' | sort -u | while read -r fn; do
		case $fn in
		cv_strerror | cv_error_detail | cv_session_close | \
			cv_session_user | cv_session_role | cv_session_clock_behind | \
			cv_role_valid | \
			cv_time_format) continue ;;
		esac
		f=$(grep -l "^$fn(" src/*/*.c 2>/dev/null | head -1)
		if [ -z "$f" ]; then
			echo "$fn: not defined"
			continue
		fi
		# The first statement after the declarations, if any.
		sed -n "/^$fn(/,/^}/p" "$f" | awk '
			body == 0 { if ($0 == "{") body = 1; next }
			body == 1 {
				if ($0 ~ /^\t(const |struct |enum |unsigned |int |char |size_t |json_t |uint[0-9]+_t |cv_classmask |uint8_t )/) {
					body = 2; next
				}
				print; exit
			}
			body == 2 { if ($0 == "") body = 3; next }
			body == 3 { print; exit }' |
			grep -q '^	cv_error_clear();$' || echo "$fn ($f)"
	done)
}
P=$T/plant_detail
mkdir -p "$P/include" "$P/src/ops"
printf 'int cv_a_do(int x,\n    int y);\nint cv_b_do(\n    int y);\nint cv_c_do(\n    int z);\n' \
	>"$P/include/casevault.h"
printf 'int\ncv_a_do(int x,\n    int y)\n{\n\tint r;\n\n\tcv_error_clear();\n\treturn 0;\n}\n' \
	>"$P/src/ops/a.c"
printf 'int\ncv_b_do(int y)\n{\n\tint r;\n\n\tr = y;\n\tcv_error_clear();\n\treturn r;\n}\n' \
	>"$P/src/ops/b.c"
stale_details "$P" >"$T/detail.plant"
has "the error-detail check finds a function that clears too late" \
	"$T/detail.plant" '^cv_b_do \(src/ops/b\.c\)$'
has "... and one that is not defined" "$T/detail.plant" '^cv_c_do: not defined$'
lacks "... and passes one that clears first" "$T/detail.plant" '^cv_a_do'
stale_details "$PWD" >"$T/detail"
if [ -s "$T/detail" ]; then
	not_ok "every public call that can fail clears the error detail first"
	sed 's/^/    /' "$T/detail"
else
	ok "every public call that can fail clears the error detail first"
fi
finish
