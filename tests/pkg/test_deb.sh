#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_deb.sh: the Debian package builds with dpkg-buildpackage, lintian
# finds no error in it, and it holds what an operator needs: the four
# binaries (not the benchmark tools), the XDP prefilter object where the
# README's command names it, both systemd units and their /etc/default
# files, the man pages, and the example SIP proxy configs. Then it
# installs the package and runs README's commands with the installed
# files: a call through them, and its capture (test_readme.sh PACKAGE).
#
# The source is copied (tracked and new files, mtimes kept) to
# BUILD_DIR/pkg/src and built there with -nc, so later runs rebuild only
# what changed (debian/rules reuses a configured build directory); the
# package is BUILD_DIR/pkg/rtpbypass_*.deb. A first run builds all (a few
# minutes on 2 CPUs), later ones take about a minute (lintian most of it).
#
# Usage: tests/pkg/test_deb.sh SRC_DIR BUILD_DIR
#        (RTPB_DEB_BUILD_ONLY=1: stop once the package is built)
set -euo pipefail

src=$(cd "${1:?usage: test_deb.sh SRC_DIR BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: test_deb.sh SRC_DIR BUILD_DIR}" && pwd)
work=$build/pkg
for t in dpkg-buildpackage lintian dpkg-deb; do
	command -v "$t" >/dev/null || { echo "$t not found (deploy/install-deps.sh)" >&2; exit 1; }
done

mkdir -p "$work/src"
rm -f "$work"/rtpbypass_*.deb "$work"/rtpbypass*.changes "$work"/rtpbypass*.buildinfo
# the source as git sees it (tracked, and new files not ignored)
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z -co --exclude-standard |
		(cd "$src" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$src" --null -T - -cf - | tar -C "$work/src" -xpf -
else
	tar -C "$src" --exclude=./build --exclude=./builddir -cf - . | tar -C "$work/src" -xpf -
fi
# a stamp from the last run would make dh skip the build
rm -f "$work/src/debian/debhelper-build-stamp"

echo "building the package in $work/src (log: $work/build.log)"
start=$(date +%s)
if ! (cd "$work/src" && dpkg-buildpackage -us -uc -b -nc) >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log"
	echo "FAIL dpkg-buildpackage -us -uc -b (see $work/build.log)"
	exit 1
fi
deb=$(ls "$work"/rtpbypass_*.deb)
echo "ok   dpkg-buildpackage: $(basename "$deb") in $(($(date +%s) - start)) s"
# RTPB_DEB_BUILD_ONLY=1: the package alone (tools/operator-session.sh)
[ -z "${RTPB_DEB_BUILD_ONLY:-}" ] || exit 0

fail=0
lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 || true
nerr=$(grep -c '^E: ' "$work/lintian.log" || true)
nwarn=$(grep -c '^W: ' "$work/lintian.log" || true)
if [ "$nerr" -ne 0 ]; then
	grep '^E: ' "$work/lintian.log"
	echo "FAIL lintian: $nerr error(s)"
	fail=1
else
	echo "ok   lintian: no error ($nwarn warning(s), $work/lintian.log)"
fi

contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#')
for f in /usr/bin/rtpbypass-dataplane /usr/bin/rtpbypass-control \
	/usr/bin/rtpb-ctl /usr/bin/rtpb-pfstat /usr/bin/rtpb-makeann \
	/usr/lib/rtpbypass/prefilter.bpf.o \
	/usr/libexec/rtpbypass/hugepages.sh \
	/lib/systemd/system/rtpbypass-dataplane.service \
	/lib/systemd/system/rtpbypass-control.service \
	/etc/default/rtpbypass-dataplane /etc/default/rtpbypass-control \
	/usr/share/man/man8/rtpbypass-dataplane.8.gz \
	/usr/share/man/man8/rtpbypass-control.8.gz \
	/usr/share/man/man1/rtpb-ctl.1.gz /usr/share/man/man1/rtpb-pfstat.1.gz \
	/usr/share/man/man1/rtpb-makeann.1.gz \
	/usr/share/doc/rtpbypass/examples/kamailio/kamailio.cfg \
	/usr/share/doc/rtpbypass/examples/opensips/opensips.cfg \
	/usr/share/doc/rtpbypass/changelog.gz; do
	if ! grep -qx "$f" <<<"$contents"; then
		echo "FAIL package lacks $f"
		fail=1
	fi
done
for f in /usr/bin/rtpb-gen /usr/bin/bench-memlat; do
	if grep -qx "$f" <<<"$contents"; then
		echo "FAIL package holds the benchmark tool $f"
		fail=1
	fi
done
# the units name the installed paths
unit=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./lib/systemd/system/rtpbypass-dataplane.service)
grep -q '^ExecStart=/usr/bin/rtpbypass-dataplane ' <<<"$unit" &&
	grep -q '^ExecStartPre=/usr/libexec/rtpbypass/hugepages.sh ' <<<"$unit" &&
	grep -q '^EnvironmentFile=/etc/default/rtpbypass-dataplane$' <<<"$unit" ||
	{ echo "FAIL the dataplane unit does not name the installed paths"; fail=1; }
env=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./etc/default/rtpbypass-dataplane)
grep -q 'xdp_prog=/usr/lib/rtpbypass/prefilter.bpf.o' <<<"$env" ||
	{ echo "FAIL /etc/default/rtpbypass-dataplane does not name the installed BPF object"; fail=1; }
[ $fail -eq 0 ] || exit 1
echo "ok   package contents: binaries, BPF object, units, env files, man pages, examples"
# installed, README's commands place a call with its files
echo "the package installed, README's lines with its files (tests/pkg/test_readme.sh):"
"$src/tests/pkg/test_readme.sh" "$src" "$build" "$deb"
