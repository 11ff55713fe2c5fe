#!/bin/sh
# Rules of the code that a reviewer would otherwise have to remember:
# the gate is the only path to a decrypted record, the library prints
# nothing but two named warnings, no passphrase comes from the
# environment, and no secret-looking option exists on the command line.
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

# The library does not print: only the command does (src/cli/). The one
# exception, one call, warns on stderr about the test-only KDF setting
# (passphrase.c).
P='\b(printf|fprintf|puts|fputs|perror|putchar|fwrite)\('
grep -l -E "$P" src/*/*.c | grep -v '^src/cli/' | grep -v -e '^src/base/passphrase.c$' \
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

# getenv: the test-only KDF switch and the vault and user names, no more.
grep -n 'getenv(' src/*/*.c |
	grep -v -e 'CASEVAULT_TEST_KDF' -e 'CASEVAULT_DIR' -e 'CASEVAULT_USER' \
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
finish
