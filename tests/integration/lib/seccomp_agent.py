#!/usr/bin/env python3
"""A minimal seccomp notify agent, for tests.

seccomp_agent.py SOCKET OUT

Listens on SOCKET, accepts one connection from the runtime, receives the message
the runtime-spec describes (container process state as JSON with the listener fd
attached via SCM_RIGHTS), writes a summary as JSON to OUT, then closes the fd: the
kernel then fails every notified syscall with ENOSYS.
"""
import array
import json
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(30)
print("listening", flush=True)
conn, _ = srv.accept()
fds = array.array("i")
data = b""
while True:
    msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(16))
    for level, kind, blob in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(blob[: len(blob) - (len(blob) % 4)])
    data += msg
    try:
        doc = json.loads(data)
        break
    except ValueError:
        if not msg:
            doc = None
            break
summary = {"fds_received": len(fds), "message": doc}
if fds:
    summary["fd_is_seccomp"] = "seccomp" in os.readlink("/proc/self/fd/%d" % fds[0])
with open(out, "w") as f:
    json.dump(summary, f)
for fd in fds:
    os.close(fd)
