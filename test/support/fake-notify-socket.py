#!/usr/bin/env python3
"""A stand-in for systemd's notify socket: what PID 1 sees of sd_notify() messages.

Usage: fake-notify-socket.py PATH [IDLE_SECONDS]

Binds a unix datagram socket at PATH with SO_PASSCRED, as systemd does, prints "listening"
once bound, then one JSON line per datagram: {"pid", "uid", "gid", "message"}, where the
credentials are those the kernel attached (a sender can only claim another PID with
CAP_SYS_ADMIN). Exits after IDLE_SECONDS (default 60) without a datagram, or on SIGTERM.
"""
import json
import os
import signal
import socket
import struct
import sys

UCRED = struct.Struct("iII")  # struct ucred: pid_t pid, uid_t uid, gid_t gid


def main() -> int:
    path = sys.argv[1]
    idle = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind(path)
    # The server may drop privileges before it notifies: let any user send, as systemd does.
    os.chmod(path, 0o777)
    sock.settimeout(idle)
    print("listening", flush=True)
    try:
        while True:
            data, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(UCRED.size))
            pid = uid = gid = None
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid, uid, gid = UCRED.unpack(value[: UCRED.size])
            message = data.decode("utf-8", "replace")
            print(json.dumps({"pid": pid, "uid": uid, "gid": gid, "message": message}), flush=True)
    except socket.timeout:
        return 0
    finally:
        sock.close()
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
