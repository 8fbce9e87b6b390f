#!/usr/bin/env python3
"""The receiving end of the runc console-socket protocol, for tests.

console.py SOCKET [--input TEXT] [--rows R --cols C] [--out FILE]

Listens on SOCKET, accepts one connection, receives the pty master passed with
SCM_RIGHTS (the message text is the pty's name), optionally sets its window
size, writes TEXT to it, and copies everything the terminal prints to FILE (or
stdout) until the other side closes. Prints "pty-name: NAME" on stderr.
"""
import argparse
import array
import fcntl
import os
import socket
import struct
import sys
import termios

ap = argparse.ArgumentParser()
ap.add_argument("socket")
ap.add_argument("--input", default="")
ap.add_argument("--rows", type=int, default=0)
ap.add_argument("--cols", type=int, default=0)
ap.add_argument("--out")
ap.add_argument("--timeout", type=float, default=30)
a = ap.parse_args()

if os.path.exists(a.socket):
    os.unlink(a.socket)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(a.socket)
srv.listen(1)
srv.settimeout(a.timeout)
# Tell whoever waits for us that the socket is ready.
print("listening", flush=True)
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % 4)])
if not fds:
    print("console.py: no fd received", file=sys.stderr)
    sys.exit(2)
master = fds[0]
print("pty-name: " + msg.decode(errors="replace"), file=sys.stderr, flush=True)
if a.rows and a.cols:
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
if a.input:
    os.write(master, a.input.encode())
out = open(a.out, "wb") if a.out else sys.stdout.buffer
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO once every slave end is closed
        break
    if not chunk:
        break
    out.write(chunk)
    out.flush()
