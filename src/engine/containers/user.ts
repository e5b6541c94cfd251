// Config.User and HostConfig.GroupAdd, resolved against the container's own /etc/passwd and
// /etc/group the way docker does (moby/sys/user): "name", "uid", "name:group", "uid:gid" and the
// mixed forms; a numeric id needs no entry; a name must have one.
//
// The files are read from the image, which is hostile input: /etc/passwd may be a symlink to
// /etc/shadow, or to /../../etc/shadow meant to escape into the host, or a FIFO or a device that
// would hang or flood the reader. Every path component is resolved inside the root, as
// openat2(RESOLVE_IN_ROOT) or Go's securejoin do: ".." stops at the root and an absolute link
// target starts again from the root. Only a regular file of sane size is read. The container is
// not running while this happens (create, start), so nothing inside it can race the walk.
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { posix } from 'node:path';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The primary gid first, then the user's supplementary groups, then --group-add; no repeats. */
  additionalGids: number[];
  /** The user's home from passwd, "/" when there is none (what runc sets HOME to). */
  home: string;
}

/** Docker's bounds: the kernel allows more, but 32-bit programs and the OCI tools do not. */
const MAX_ID = 2 ** 31 - 1;
const RANGE_ERROR = `uids and gids must be in range 0-${MAX_ID}`;

/** No passwd or group file is this large; a bigger one is an attempt to exhaust memory. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
/** Linux's own limit on links followed in one lookup. */
const MAX_LINKS = 40;

/**
 * The host path that `path` names inside `root`, with every symlink resolved as if `root` were
 * "/". Missing components are kept as they are (the caller's open then fails with ENOENT).
 * Throws ELOOP after too many links.
 */
export function resolveInRoot(root: string, path: string): string {
  const base = posix.resolve(root);
  const pending = path.split('/').reverse();
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.pop()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = posix.join(base, ...done, part);
    let isLink = false;
    try {
      isLink = lstatSync(here).isSymbolicLink();
    } catch {
      // Missing (or not a directory on the way): nothing below can be a link either.
      done.push(part, ...pending.reverse().filter((p) => p !== '' && p !== '.'));
      return resolveDots(base, done);
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw Object.assign(new Error(`too many levels of symbolic links resolving ${path} in ${root}`), { code: 'ELOOP' });
    }
    const target = readlinkSync(here);
    if (target.startsWith('/')) done.length = 0;
    pending.push(...target.split('/').reverse());
  }
  return posix.join(base, ...done);
}

// After a missing component nothing is a link, but ".." must still stay inside the root.
function resolveDots(base: string, parts: string[]): string {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else out.push(p);
  }
  return posix.join(base, ...out);
}

/**
 * The text of `path` inside `root`, or undefined when it does not exist there (docker reads a
 * missing passwd as an empty one). Throws for something that is not a regular file, or too big.
 */
export function readFileInRoot(root: string, path: string): string | undefined {
  let host: string;
  try {
    host = resolveInRoot(root, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw e;
  }
  let fd: number;
  try {
    // O_NOFOLLOW: the last component was resolved above and must still not be a link;
    // O_NONBLOCK: a FIFO must not hang the open.
    fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw new Error(`cannot read ${path} in the container: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`cannot read ${path} in the container: it is not a regular file`);
    if (st.size > MAX_FILE_BYTES) throw new Error(`cannot read ${path} in the container: it is larger than ${MAX_FILE_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Go's strconv.Atoi with the error ignored, as the passwd parser uses it: junk reads as 0. */
function looseInt(s: string | undefined): number {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return 0;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : 0;
}

function lines(text: string | undefined): string[][] {
  if (text === undefined) return [];
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(line.split(':'));
  }
  return out;
}

function readUserFile(rootfs: string, path: string, strict: boolean): string | undefined {
  try {
    return readFileInRoot(rootfs, path);
  } catch (e) {
    if (strict) throw e;
    return undefined;
  }
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? '', uid: looseInt(f[2]), gid: looseInt(f[3]), home: f[5] ?? '' }));
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? '', gid: looseInt(f[2]), members: f[3] ? f[3].split(',') : [] }));
}

/** A user or group argument: a number (always taken as an id) or a name. */
interface IdArg {
  text: string;
  id?: number;
}

function idArg(text: string): IdArg {
  if (!/^[+-]?\d+$/.test(text)) return { text };
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ID) throw new Error(RANGE_ERROR);
  return { text, id: n };
}

function noUser(name: string): Error {
  return new Error(`unable to find user ${name}: no matching entries in passwd file`);
}

function noGroup(name: string): Error {
  return new Error(`unable to find group ${name}: no matching entries in group file`);
}

/**
 * Resolves `user` ("" is root, or the image's user already merged in) and `groupAdd` inside the
 * rootfs. Throws docker's errors for names that the files do not have.
 */
export function resolveUser(rootfs: string, user: string, groupAdd: readonly string[] | null = null): ResolvedUser {
  const [userPart = '', groupPart = ''] = user.split(':');
  const u = idArg(userPart);
  const g = groupPart === '' ? undefined : idArg(groupPart);
  const adds = (groupAdd ?? []).map(idArg);
  // A file that cannot be read is an error only where a name must be looked up in it; a numeric
  // id, or root by default, runs without one (and then HOME is "/").
  const passwd = parsePasswd(readUserFile(rootfs, '/etc/passwd', userPart !== '' && u.id === undefined));
  let groupCache: GroupEntry[] | undefined;
  const strictGroups = (g !== undefined && g.id === undefined) || adds.some((a) => a.id === undefined);
  const groups = (): GroupEntry[] => (groupCache ??= parseGroup(readUserFile(rootfs, '/etc/group', strictGroups)));

  let uid = 0;
  let gid = 0;
  let home = '';
  let matchedName: string | undefined;
  const entry = passwd.find((p) => (userPart === '' ? p.uid === 0 : u.id !== undefined ? p.uid === u.id : p.name === userPart));
  if (entry) {
    matchedName = entry.name;
    uid = entry.uid;
    gid = entry.gid;
    home = entry.home;
  } else if (userPart !== '') {
    if (u.id === undefined) throw noUser(userPart);
    uid = u.id;
  }

  let supplementary: number[] = [];
  if (g) {
    const found = groups().find((x) => (g.id !== undefined ? x.gid === g.id : x.name === g.text));
    if (found) gid = found.gid;
    else if (g.id !== undefined) gid = g.id;
    else throw noGroup(g.text);
  } else if (matchedName !== undefined) {
    // The implicit form: the user's primary group from passwd, plus every group listing them.
    supplementary = groups().filter((x) => x.members.includes(matchedName!)).map((x) => x.gid);
  }

  const added: number[] = [];
  const addGroups = adds.length > 0 ? groups() : [];
  for (const a of adds) {
    const found = addGroups.find((x) => (a.id !== undefined ? x.gid === a.id : x.name === a.text));
    if (found) {
      if (found.gid < 0 || found.gid > MAX_ID) throw new Error(RANGE_ERROR);
      added.push(found.gid);
    } else if (a.id !== undefined) {
      added.push(a.id);
    } else {
      throw noGroup(a.text);
    }
  }

  for (const id of [uid, gid, ...supplementary]) if (id < 0 || id > MAX_ID) throw new Error(RANGE_ERROR);
  return { uid, gid, additionalGids: [...new Set([gid, ...supplementary, ...added])], home: home || '/' };
}
