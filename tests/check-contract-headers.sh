#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# check-contract-headers.sh: the contract (include/) depends on nothing
# (issue 20 item 4): each header compiles alone with a plain C11 compiler,
# no DPDK include path and no project flags, as control, tools and
# another implementation of either side would include it.
# Usage: tests/check-contract-headers.sh CC INCLUDE_DIR [HEADER...]
# (no HEADER: every *.h in INCLUDE_DIR, so a new contract header is
# checked without being listed).
# Exit 0 when every header compiles; else 1, with the compiler's output.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 CC INCLUDE_DIR [HEADER...]" >&2; exit 2; }
cc=$1
incdir=$2
shift 2
[ $# -gt 0 ] || set -- "$incdir"/*.h

fail=0
for h in "$@"; do
	name=$(basename "$h")
	# -std=c11 without GNU extensions; -I only the contract's directory
	if ! printf '#include "%s"\n' "$name" |
		"$cc" -std=c11 -fsyntax-only -Wall -Wextra -Werror \
			-I "$incdir" -x c -; then
		echo "FAIL: $name does not compile without DPDK (cc -std=c11)" >&2
		fail=1
	else
		echo "ok: $name"
	fi
done
exit $fail
