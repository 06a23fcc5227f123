#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# check-hardening.sh: the hardening meson.build asks for (issue 16 item 7)
# is in each built binary given, as checksec reads it, with readelf:
#   PIE          ELF type DYN with an INTERP (an executable, not a library)
#   full RELRO   a GNU_RELRO segment and BIND_NOW (or FLAGS_1 NOW)
#   canaries     __stack_chk_fail imported (-fstack-protector-strong)
#   fortify      at least one __*_chk function imported (_FORTIFY_SOURCE)
# Usage: tests/check-hardening.sh BINARY...
# Exit 0 when every binary has all four; else 1, naming what is missing.
set -euo pipefail

command -v readelf >/dev/null || { echo "readelf not found (binutils)" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }

fail=0
for bin in "$@"; do
	missing=()
	hdr=$(readelf -h "$bin")
	seg=$(readelf -lW "$bin")
	dyn=$(readelf -dW "$bin")
	syms=$(readelf --dyn-syms -W "$bin")
	grep -Eq 'Type:[[:space:]]+DYN' <<<"$hdr" && grep -q 'INTERP' <<<"$seg" ||
		missing+=("PIE (ELF type DYN with INTERP)")
	grep -q 'GNU_RELRO' <<<"$seg" || missing+=("RELRO (no GNU_RELRO segment)")
	grep -Eq '\(BIND_NOW\)|\(FLAGS_1\).*NOW' <<<"$dyn" ||
		missing+=("full RELRO (no BIND_NOW / FLAGS_1 NOW)")
	grep -q '__stack_chk_fail' <<<"$syms" ||
		missing+=("stack protector (no __stack_chk_fail)")
	nchk=$(grep -Ec ' __[a-z0-9_]+_chk(@|$)' <<<"$syms" || true)
	[ "$nchk" -gt 0 ] || missing+=("_FORTIFY_SOURCE (no __*_chk function)")
	if [ ${#missing[@]} -eq 0 ]; then
		echo "ok   $(basename "$bin"): PIE, full RELRO, stack protector, fortify ($nchk __*_chk functions)"
	else
		fail=1
		for m in "${missing[@]}"; do
			echo "FAIL $(basename "$bin"): $m"
		done
	fi
done
exit $fail
