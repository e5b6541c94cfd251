#!/usr/bin/python3
"""A --console-socket peer, as containerd's or podman's: receives the pty master and relays it.

Usage: console-receiver.py SOCKET [INPUT]

Listens on the unix socket SOCKET (bound under a temporary name and renamed into place once
listening, so a caller may connect as soon as the path exists), accepts one connection, takes
the fd sent with SCM_RIGHTS, writes INPUT (if given) to it, then reads the pty until the last
slave is closed. Prints one JSON object: the message that came with the fd, how many fds came,
whether the fd is a pty master, its pty number and window size, and everything read.
Exits by itself after 30 seconds, so a broken runtime cannot hang a test.
"""
import array
import fcntl
import json
import os
import signal
import socket
import struct
import sys
import termios

TIOCGPTN = 0x80045430

def main() -> None:
    path = sys.argv[1]
    text = sys.argv[2] if len(sys.argv) > 2 else None
    signal.alarm(30)
    tmp = path + '.tmp'
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(tmp)
    srv.listen(1)
    os.rename(tmp, path)
    conn, _ = srv.accept()
    msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 8)
    conn.close()
    srv.close()
    os.unlink(path)
    out = {'message': msg.decode('utf8', 'replace'), 'fds': len(fds)}
    if not fds:
        print(json.dumps(out))
        return
    master = fds[0]
    for extra in fds[1:]:
        os.close(extra)
    try:
        buf = array.array('i', [0])
        fcntl.ioctl(master, TIOCGPTN, buf, True)
        out['ptn'] = buf[0]
        out['master'] = True
    except OSError:
        out['master'] = False
    rows, cols, _x, _y = struct.unpack('HHHH', fcntl.ioctl(master, termios.TIOCGWINSZ, b'\0' * 8))
    out['winsize'] = [rows, cols]
    if text is not None:
        os.write(master, text.encode())
    data = b''
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every slave fd is closed
            break
        if not chunk:
            break
        data += chunk
    out['data'] = data.decode('utf8', 'replace')
    print(json.dumps(out))

main()
