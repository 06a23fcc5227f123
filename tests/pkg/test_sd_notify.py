#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Both processes speak systemd's notify protocol (issue 18 item 4).

Each is started as systemd starts a Type=notify unit with WatchdogSec=2:
NOTIFY_SOCKET names a datagram socket this test reads, WATCHDOG_USEC is
2 s. Asserts, for control (udp socket on 127.0.0.1, no dataplane) and
for the dataplane (net_null port, no PCI, its own --file-prefix):
  - READY=1 arrives (control: sockets bound; dataplane: ports up);
  - WATCHDOG=1 arrives at least twice in the next 2.5 s (half-period
    feeding from the main loop);
  - after SIGTERM, STOPPING=1 arrives and the process exits 0;
  - the dataplane leaves no hugepage file behind (/dev/hugepages/PREFIXmap_*,
    which a unit's clean stop must release);
for control, that SIGHUP (the unit's ExecReload) drains it: with no
session left it says so (STATUS=draining) and exits 0 at its next tick;
and for both, that with stderr on the "journal" (JOURNAL_STREAM naming
its stderr) every log line starts with an sd-daemon priority, "<6>" for
INFO; errors would be "<3>" (the dataplane's DPDK log then goes there
alone, not also to syslog, where it would reach the journal twice).
Usage: test_sd_notify.py BUILD_DIR
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def run(name, argv, tmp, journal=False, stop=signal.SIGTERM):
    path = os.path.join(tmp, name + ".notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    err_path = os.path.join(tmp, name + ".stderr")
    err = open(err_path, "w")
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="2000000")
    if journal:
        st = os.fstat(err.fileno())
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    proc = subprocess.Popen(argv, stdout=err, stderr=err, env=env)
    msgs = []
    ready_at = None
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            try:
                msgs.append(sock.recv(4096).decode())
            except socket.timeout:
                pass
            if ready_at is None and any("READY=1" in m for m in msgs):
                ready_at = time.monotonic()
                deadline = ready_at + 2.5
            if proc.poll() is not None:
                break
        assert ready_at is not None, "%s: no READY=1 (got %r; stderr %s)" % (
            name, msgs, open(err_path).read()[-2000:])
        wd = sum(m.count("WATCHDOG=1") for m in msgs)
        assert wd >= 2, "%s: %d WATCHDOG=1 in 2.5 s after READY" % (name, wd)
        proc.send_signal(stop)
        rc = proc.wait(timeout=20)
        end = time.monotonic() + 1
        while time.monotonic() < end:
            try:
                msgs.append(sock.recv(4096).decode())
            except socket.timeout:
                break
        sig = signal.Signals(stop).name
        assert rc == 0, "%s: exit status %d after %s" % (name, rc, sig)
        assert any("STOPPING=1" in m for m in msgs), "%s: no STOPPING=1" % name
        if stop == signal.SIGHUP:
            assert any("STATUS=draining" in m for m in msgs), "%s: no STATUS=draining" % name
        print("ok   %s: READY=1, %d WATCHDOG=1 in 2.5 s, %s: %sSTOPPING=1, exit 0"
              % (name, wd, sig, "STATUS=draining, " if stop == signal.SIGHUP else ""))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
        err.close()
    return open(err_path).read()


def main():
    build = os.path.abspath(sys.argv[1])
    prefix = "rtpb_sdn%d" % os.getpid()
    with tempfile.TemporaryDirectory() as tmp:
        log = run("control", [
            os.path.join(build, "control/rtpbypass-control"), "-f", "-F",
            "-s", "unix:" + os.path.join(tmp, "ctl.sock"), "-l", "192.0.2.1", "--no-prefilter",
            "--file-prefix", prefix, "--journal", os.path.join(tmp, "journal")],
            tmp, journal=True)
        lines = [l for l in log.splitlines() if l]
        assert lines, "control wrote no log line"
        bad = [l for l in lines if not (l[:1] == "<" and l[2:3] == ">" and l[1].isdigit())]
        assert not bad, "control lines without an sd-daemon prefix: %r" % bad[:3]
        assert any(l.startswith("<6>INFO: ") for l in lines), lines[:3]
        print("ok   control: %d log lines, each with an sd-daemon priority prefix" % len(lines))
        run("control-reload", [
            os.path.join(build, "control/rtpbypass-control"), "-f", "-F",
            "-s", "unix:" + os.path.join(tmp, "ctl2.sock"), "-l", "192.0.2.1",
            "--no-prefilter", "--file-prefix", prefix,
            "--journal", os.path.join(tmp, "journal")], tmp, stop=signal.SIGHUP)
        huge = lambda: [f for f in os.listdir("/dev/hugepages") if f.startswith(prefix)]
        try:
            log = run("dataplane", [
                os.path.join(build, "dataplane/rtpbypass-dataplane"), "-l", "0-1",
                "--no-pci", "--file-prefix", prefix, "--vdev", "net_null0",
                "--", "--addr", "192.0.2.1/24",
                "--neigh-file", os.path.join(tmp, "neigh")], tmp, journal=True)
            lines = [l for l in log.splitlines() if l]
            bad = [l for l in lines if not (l[:1] == "<" and l[2:3] == ">" and l[1].isdigit())]
            assert not bad, "dataplane lines without an sd-daemon prefix: %r" % bad[:3]
            ready = [l for l in lines if l.startswith("<6>DP: ready: ")]
            assert len(ready) == 1, "dataplane: %d 'DP: ready' lines" % len(ready)
            print("ok   dataplane: %d log lines (EAL's included), each with an sd-daemon "
                  "priority prefix" % len(lines))
            left = huge()
            assert not left, "hugepage files left after the stop: %r" % left[:5]
            print("ok   dataplane: no hugepage file left after the stop")
        finally:
            # EAL's runtime directory (the hugepage files go at its stop)
            shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
