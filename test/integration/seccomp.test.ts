// linux.seccomp on a real busybox container: errno, kill, trap and log actions, argument
// filters, exec'd processes, the NOTIFY listener handover, Docker's default profile, the
// compiled-program cache, and bad profiles that must fail create and leave nothing behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { mobyToOci, type MobyProfile } from '../../src/runtime/seccomp/moby-profile.ts';
import type { Seccomp } from '../../src/runtime/spec/types.ts';
import { bundle, stateOf, waitFor, type Bundle } from './harness.ts';

const MOBY = new URL('../../../shared/specs/moby/seccomp-default.json', import.meta.url);
const EXDEV = 18;
const SIGSYS_STATUS = 128 + 31;

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

/** A bundle running `sh -c script` with the given profile. */
function withProfile(script: string, seccomp: Seccomp, nnp = true): Bundle {
  const x = bundle(['sh', '-c', script], (s) => {
    s.root!.readonly = false;
    s.linux!.seccomp = seccomp;
    s.process!.noNewPrivileges = nnp;
  });
  return x;
}

function run(x: Bundle): { status: number | null; stdout: string; stderr: string } {
  const r = x.rt(['run', x.id]);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const allowBut = (syscalls: Seccomp['syscalls']): Seccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls });

test('SCMP_ACT_ERRNO gives the configured errno, and EPERM when none is configured', () => {
  for (const nnp of [true, false]) {
    b = withProfile('mkdir /tmp/a; echo "a=$?"; rmdir /tmp; echo "b=$?"; echo ok > /tmp/f && cat /tmp/f', allowBut([
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV },
      { names: ['rmdir'], action: 'SCMP_ACT_ERRNO' },
    ]), nnp);
    const r = run(b);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/a': Invalid cross-device link/);
    assert.match(r.stderr, /rmdir: '\/tmp': Operation not permitted/);
    assert.match(r.stdout, /a=1\nb=1\nok\n/);
    b.cleanup();
    b = undefined;
  }
});

test('the default action applies to every syscall no rule names: defaultErrnoRet', () => {
  // everything but what busybox needs to start, write and exit fails with EXDEV
  const seccomp: Seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EXDEV,
    syscalls: [{ names: ['execve', 'write', 'exit', 'exit_group', 'brk', 'arch_prctl', 'set_tid_address', 'getuid', 'getpid', 'getppid', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'uname', 'prctl', 'mmap', 'munmap', 'ioctl', 'fstat', 'newfstatat', 'getcwd', 'readlink', 'readlinkat', 'access', 'faccessat', 'faccessat2', 'close', 'read', 'openat', 'open', 'fcntl', 'dup2', 'wait4', 'clone', 'vfork', 'stat', 'lstat', 'getrandom', 'set_robust_list', 'rseq', 'mprotect', 'prlimit64', 'geteuid', 'getgid', 'getegid', 'sigaltstack', 'futex', 'statx', 'lseek', 'getdents64', 'poll', 'setpgid', 'getpgid', 'getpgrp'], action: 'SCMP_ACT_ALLOW' }],
  };
  b = withProfile('mkdir /tmp/x; echo "rc=$?"', seccomp);
  const r = run(b);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Invalid cross-device link/);
  assert.match(r.stdout, /rc=1/);
});

test('KILL_PROCESS, KILL_THREAD (and SCMP_ACT_KILL) and TRAP end the calling process with SIGSYS', () => {
  for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL', 'SCMP_ACT_TRAP']) {
    b = withProfile('(sync); echo "status=$?"', allowBut([{ names: ['sync'], action }]));
    const r = run(b);
    assert.equal(r.status, 0, `${action}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`status=${SIGSYS_STATUS}`), action);
    b.cleanup();
    b = undefined;
  }
});

test('SCMP_ACT_LOG lets the syscall through and the kernel logs it', () => {
  b = withProfile('uname -s', allowBut([{ names: ['uname'], action: 'SCMP_ACT_LOG' }]), true);
  const r = run(b);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Linux\n');
  // the kernel logs SECCOMP_RET_LOG as an audit record "type=1326 ... syscall=63"
  const log = readKernelLog();
  if (log !== undefined) assert.match(log, /type=1326.*comm="uname".*syscall=63/);
});

/** The kernel ring buffer, or undefined if this host does not let us read it. */
function readKernelLog(): string | undefined {
  const r = spawnSync('dmesg', [], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

test('argument filters: personality(PER_LINUX32) is denied, personality(PER_LINUX) is not', () => {
  b = withProfile('linux32 true; echo "32=$?"; linux64 true; echo "64=$?"', allowBut([
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
  ]));
  const r = run(b);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /32=1\n64=0\n/);
  assert.match(r.stderr, /Invalid cross-device link/);
});

test('argument filters compare all 64 bits: a value with high bits set is not its low word', () => {
  // 0x1_0000_0008 has the low word 8: an EQ on it must not catch personality(8)
  b = withProfile('linux32 true; echo "32=$?"', allowBut([
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV, args: [{ index: 0, value: 2 ** 32 + 8, op: 'SCMP_CMP_EQ' }] },
  ]));
  const r = run(b);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /32=0/);
});

test('a process started with exec gets the container filter too', () => {
  b = bundle(['sleep', '100'], (s) => {
    s.linux!.seccomp = allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV }]);
  });
  b.ok(['run', '--detach', b.id]);
  const r = b.rt(['exec', b.id, 'sh', '-c', 'mkdir /tmp/e; echo "rc=$?"']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /Invalid cross-device link/);
});

// A seccomp agent: accepts one connection, receives the state JSON and the fd, reports them.
const AGENT = `
import socket, sys, os, json, array
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
out = []
for _ in range(int(sys.argv[2])):
    c, _ = s.accept()
    data = b''
    fds = array.array('i')
    while True:
        msg, anc, flags, addr = c.recvmsg(65536, socket.CMSG_SPACE(16 * fds.itemsize))
        for level, typ, d in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(d[:len(d) - (len(d) % fds.itemsize)])
        if not msg:
            break
        data += msg
    c.close()
    kinds = [os.readlink('/proc/self/fd/%d' % fd) for fd in fds]
    for fd in fds:
        os.close(fd)
    out.append({'state': json.loads(data), 'fds': kinds})
print(json.dumps(out))
`;

interface AgentReport {
  state: { ociVersion: string; fds: string[]; pid: number; metadata?: string; state: { id: string; status: string; pid: number; bundle: string } };
  fds: string[];
}

async function agent(x: Bundle, connections: number): Promise<{ path: string; result: Promise<AgentReport[]> }> {
  const path = join(x.dir, 'agent.sock');
  const child = spawn('python3', ['-c', AGENT, path, String(connections)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<AgentReport[]>((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as AgentReport[]) : reject(new Error(`agent exited ${code}: ${err}`))));
  });
  result.catch(() => {});
  await waitFor(() => existsSync(path), 'the seccomp agent to listen');
  return { path, result };
}

test('SCMP_ACT_NOTIFY hands the listener fd and the container process state to listenerPath', async () => {
  for (const nnp of [true, false]) {
    b = bundle(['sh', '-c', 'mkdir /tmp/n; echo "rc=$?"; sleep 100'], (s) => {
      s.process!.noNewPrivileges = nnp;
      s.annotations = { 'org.example.key': 'value' };
    });
    const ag = await agent(b, 2);
    b.spec.linux!.seccomp = {
      ...allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }]),
      listenerPath: ag.path,
      listenerMetadata: 'agent-metadata',
    };
    b.save();
    b.ok(['create', b.id]);
    const pid = stateOf(b).pid;
    // an exec'd process hands over a listener of its own
    const e = b.rt(['exec', '--detach', '--pid-file', join(b.dir, 'exec.pid'), b.id, 'true']);
    assert.equal(e.status, 0, e.stderr);
    const execPid = Number(readFileSync(join(b.dir, 'exec.pid'), 'utf8'));
    const [init, exec] = await ag.result;
    assert.deepEqual(init!.fds, ['anon_inode:seccomp notify']);
    assert.equal(init!.state.pid, pid);
    assert.deepEqual(init!.state.fds, ['seccompFd']);
    assert.equal(init!.state.metadata, 'agent-metadata');
    assert.equal(init!.state.state.id, b.id);
    assert.equal(init!.state.state.status, 'creating');
    assert.equal(init!.state.state.pid, pid);
    assert.equal(init!.state.state.bundle, b.dir);
    assert.deepEqual((init!.state.state as { annotations?: unknown }).annotations, { 'org.example.key': 'value' });
    assert.deepEqual(exec!.fds, ['anon_inode:seccomp notify']);
    assert.equal(exec!.state.pid, execPid);
    assert.equal(exec!.state.state.status, 'running');
    assert.equal(exec!.state.state.pid, pid);
    // the agent is gone, so nobody holds the listener: the notified syscall fails with ENOSYS
    b.ok(['start', b.id]);
    b.cleanup();
    b = undefined;
  }
});

test('SCMP_ACT_NOTIFY: the notified syscall fails with ENOSYS once no agent holds the listener', async () => {
  b = bundle(['sh', '-c', 'mkdir /tmp/n; echo "rc=$?"'], (s) => {
    s.root!.readonly = false;
  });
  const ag = await agent(b, 1);
  b.spec.linux!.seccomp = { ...allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }]), listenerPath: ag.path };
  b.save();
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 0, r.stderr);
  await ag.result;
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /Function not implemented/);
});

test('a listenerPath nobody listens on fails create and leaves nothing behind', () => {
  b = bundle(['true'], (s) => {
    s.linux!.seccomp = { ...allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]), listenerPath: '/nonexistent/agent.sock' };
  });
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /connect to seccomp listener \/nonexistent\/agent.sock/);
});

function dockerProfile(x: Bundle): Seccomp {
  const profile = JSON.parse(readFileSync(MOBY, 'utf8')) as MobyProfile;
  return mobyToOci(profile, { capabilities: x.spec.process!.capabilities?.bounding ?? [] });
}

test("Docker's default profile lets busybox work normally and denies what Docker denies", () => {
  for (const nnp of [true, false]) {
    b = bundle(['sh', '-c', [
      'echo hello > /tmp/f && cat /tmp/f',
      'ls / > /dev/null && echo listed',
      'ps > /dev/null && echo ps',
      'id -u',
      'linux32 true && echo linux32',
      'mount -t tmpfs none /mnt 2>/dev/null; echo "mount=$?"',
      'unshare -U true 2>/dev/null; echo "unshare=$?"',
    ].join('; ')]);
    b.spec.process!.noNewPrivileges = nnp;
    b.spec.root!.readonly = false;
    b.spec.linux!.seccomp = dockerProfile(b);
    b.save();
    const r = run(b);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^hello\nlisted\nps\n0\nlinux32\nmount=[1-9]\d*\nunshare=[1-9]\d*\n$/);
    b.cleanup();
    b = undefined;
  }
});

test('a profile loaded before the identity change that denies faccessat2, close_range and sendto still lets hull-init finish', () => {
  // runtime-tools' profile: deny by default, a newer syscall named (so no ENOSYS stub covers
  // faccessat2 or close_range), no no_new_privs (so the filter is loaded early)
  for (const missing of [['faccessat2', 'close_range'], ['faccessat2', 'faccessat', 'close_range', 'sendto', 'sendmsg']]) {
    b = bundle(['sh', '-c', 'ls / > /dev/null && echo listed']);
    b.spec.process!.noNewPrivileges = false;
    const profile = dockerProfile(b);
    profile.syscalls = profile.syscalls!.map((r) => ({ ...r, names: r.names.filter((n) => !missing.includes(n)) })).filter((r) => r.names.length > 0);
    b.spec.linux!.seccomp = profile;
    b.save();
    const r = run(b);
    assert.equal(r.status, 0, `without ${missing.join(', ')}: ${r.stderr}`);
    assert.equal(r.stdout, 'listed\n');
    b.cleanup();
    b = undefined;
  }
});

test('compiled programs are cached by their input; a corrupt entry is compiled again', () => {
  b = bundle(['true']);
  b.spec.linux!.seccomp = dockerProfile(b);
  b.save();
  const cache = join(b.root, '.seccomp');
  let r = run(b);
  assert.equal(r.status, 0, r.stderr);
  const entries = readdirSync(cache);
  assert.equal(entries.length, 1);
  assert.match(entries[0]!, /^[0-9a-f]{16}$/);
  const file = join(cache, entries[0]!);
  const good = readFileSync(file);
  // truncated: detected by its checksum, compiled again, rewritten whole
  writeFileSync(file, good.subarray(0, good.length - 8));
  r = run(b);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(file), good);
  // altered in the program: same
  const bad = Buffer.from(good);
  bad[bad.length - 3]! ^= 0xff;
  writeFileSync(file, bad);
  r = run(b);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(file), good);
});

test('bad profiles fail create with a message naming the field, and leave nothing behind', () => {
  const cases: [Seccomp, RegExp][] = [
    [{ defaultAction: 'SCMP_ACT_BOGUS' }, /linux\.seccomp\.defaultAction/],
    [allowBut([{ names: ['read'], action: 'SCMP_ACT_NOPE' }]), /linux\.seccomp\.syscalls\[0\]\.action/],
    [allowBut([{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 5 }]), /linux\.seccomp\.syscalls\[0\]\.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }, /linux\.seccomp\.defaultErrnoRet/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_PDP11'] }, /linux\.seccomp\.architectures\[0\]/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_S390Y'] }, /linux\.seccomp\.architectures\[0\]: "SCMP_ARCH_S390Y" is not one of/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NONE'] }, /linux\.seccomp\.flags\[0\]/],
    [allowBut([{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] }]), /linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op/],
    [allowBut([{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }]), /linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index/],
    [allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]), /linux\.seccomp\.listenerPath: required/],
    [{ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, /linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY cannot be the default action/],
  ];
  for (const [seccomp, message] of cases) {
    b = bundle(['true'], (s) => {
      s.linux!.seccomp = seccomp;
    });
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0, `${JSON.stringify(seccomp)} was accepted`);
    assert.match(r.stderr, message);
    b.cleanup();
    b = undefined;
  }
});

test('an unknown syscall name is skipped with a warning, as runc does', () => {
  b = withProfile('uname -s', allowBut([{ names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }]));
  const r = run(b);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Linux\n');
  assert.match(r.stderr, /warning: config\.json: linux\.seccomp\.syscalls: ignoring 1 unknown syscall: "no_such_syscall"/);
});
