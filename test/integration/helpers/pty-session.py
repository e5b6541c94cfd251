#!/usr/bin/python3
"""Runs a command with a terminal, as a user at a shell would, and scripts what they type.

Usage: pty-session.py SCRIPT_JSON

SCRIPT_JSON is an object:
  argv:  the command and its arguments
  rows, cols: the terminal's size (default 24 x 80)
  steps: a list of {"expect": TEXT} (wait until the output so far holds TEXT) and
         {"send": TEXT} (type TEXT; "\\u0010" is ctrl-p) and {"resize": [ROWS, COLS]}
  timeout: seconds for the whole session (default 20)

The command gets a new session with the pty as its controlling terminal (stdin, stdout and
stderr). After the steps, the output is read until the command exits. Prints one JSON object:
{"output": everything read, "status": the exit status (128+n for signal n), "timedOut": bool}.
A step whose text never comes ends the session early, killing the command.
"""
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


def main() -> None:
    script = json.loads(sys.argv[1])
    deadline = time.monotonic() + float(script.get('timeout', 20))
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(script['argv'][0], script['argv'])
        finally:
            os._exit(127)
    set_size(fd, int(script.get('rows', 24)), int(script.get('cols', 80)))
    out = b''
    eof = False
    timed_out = False

    def pump(wait: float) -> None:
        nonlocal out, eof
        if eof:
            time.sleep(wait)
            return
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the last slave fd closed
            data = b''
        if data:
            out += data
        else:
            eof = True

    for step in script.get('steps', []):
        if 'expect' in step:
            want = step['expect'].encode()
            while want not in out and not eof and time.monotonic() < deadline:
                pump(0.05)
            if want not in out:
                timed_out = True
                break
        elif 'send' in step:
            os.write(fd, step['send'].encode())
        elif 'resize' in step:
            set_size(fd, *step['resize'])
            os.kill(pid, signal.SIGWINCH)
    status = None
    while status is None:
        if timed_out or time.monotonic() >= deadline:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
        got, st = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            status = os.waitstatus_to_exitcode(st)
            if status < 0:
                status = 128 - status
            break
        pump(0.05)
    # what the command wrote just before it exited
    while not eof:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            break
        pump(0)
    os.close(fd)
    print(json.dumps({'output': out.decode('utf-8', 'replace'), 'status': status, 'timedOut': timed_out}))


main()
