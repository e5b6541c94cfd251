// Mount options of config.json, turned into what mount(2) and mount_setattr(2) take.
// The option set and its meaning follow runc, so a bundle mounts the same under both.

/** mount(2) flags (include/uapi/linux/mount.h). All fit in 32 bits, so plain numbers. */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** mount_setattr(2) attributes, used for the recursive "rro"-style options. */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  /** The mask of the atime mode; setting any atime mode must also clear it. */
  _ATIME: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  IDMAP: 0x100000,
  NOSYMFOLLOW: 0x200000,
} as const;

// [set?, flag]: "set" options add the flag, the others take it away (rw clears MS_RDONLY).
const FLAGS: Record<string, readonly [boolean, number]> = {
  defaults: [true, 0],
  ro: [true, MS.RDONLY],
  rw: [false, MS.RDONLY],
  nosuid: [true, MS.NOSUID],
  suid: [false, MS.NOSUID],
  nodev: [true, MS.NODEV],
  dev: [false, MS.NODEV],
  noexec: [true, MS.NOEXEC],
  exec: [false, MS.NOEXEC],
  sync: [true, MS.SYNCHRONOUS],
  async: [false, MS.SYNCHRONOUS],
  dirsync: [true, MS.DIRSYNC],
  remount: [true, MS.REMOUNT],
  mand: [true, MS.MANDLOCK],
  nomand: [false, MS.MANDLOCK],
  noatime: [true, MS.NOATIME],
  atime: [false, MS.NOATIME],
  nodiratime: [true, MS.NODIRATIME],
  diratime: [false, MS.NODIRATIME],
  relatime: [true, MS.RELATIME],
  norelatime: [false, MS.RELATIME],
  strictatime: [true, MS.STRICTATIME],
  nostrictatime: [false, MS.STRICTATIME],
  lazytime: [true, MS.LAZYTIME],
  nolazytime: [false, MS.LAZYTIME],
  iversion: [true, MS.I_VERSION],
  noiversion: [false, MS.I_VERSION],
  nosymfollow: [true, MS.NOSYMFOLLOW],
  symfollow: [false, MS.NOSYMFOLLOW],
  silent: [true, MS.SILENT],
  loud: [false, MS.SILENT],
  bind: [true, MS.BIND],
  rbind: [true, MS.BIND | MS.REC],
};

// Propagation cannot be combined with other flags in one mount(2) call, so each one
// becomes its own call, in the order given.
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

// mount(2) applies flags to one mount only; these apply to a whole subtree through
// mount_setattr(AT_RECURSIVE).
const RECURSIVE_ATTRS: Record<string, readonly [boolean, number]> = {
  rro: [true, MOUNT_ATTR.RDONLY],
  rrw: [false, MOUNT_ATTR.RDONLY],
  rnosuid: [true, MOUNT_ATTR.NOSUID],
  rsuid: [false, MOUNT_ATTR.NOSUID],
  rnodev: [true, MOUNT_ATTR.NODEV],
  rdev: [false, MOUNT_ATTR.NODEV],
  rnoexec: [true, MOUNT_ATTR.NOEXEC],
  rexec: [false, MOUNT_ATTR.NOEXEC],
  rnodiratime: [true, MOUNT_ATTR.NODIRATIME],
  rdiratime: [false, MOUNT_ATTR.NODIRATIME],
  rrelatime: [true, MOUNT_ATTR.RELATIME],
  rnorelatime: [false, MOUNT_ATTR.RELATIME],
  rnoatime: [true, MOUNT_ATTR.NOATIME],
  ratime: [false, MOUNT_ATTR.NOATIME],
  rstrictatime: [true, MOUNT_ATTR.STRICTATIME],
  rnostrictatime: [false, MOUNT_ATTR.STRICTATIME],
  rnosymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW],
  rsymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
};

/**
 * Every option name hull applies, sorted, as `features` reports them. "tmpcopyup", "idmap"
 * and "ridmap" are parsed but refused at create: hull-runtime does not make them yet.
 */
export const MOUNT_OPTIONS: readonly string[] = [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE_ATTRS)].sort();

export interface MountOptions {
  /** mount(2) flags to set, MS_BIND and MS_REC included for bind/rbind. */
  flags: number;
  /** Flags the options explicitly turned off (rw, suid, ...), so a remount can clear them. */
  clear: number;
  /** One mount(2) call each: MS_SHARED, MS_PRIVATE|MS_REC, ... in the order given. */
  propagation: number[];
  /** MS_BIND is set: the source is a path, not a device, and fs data is meaningless. */
  bind: boolean;
  /** rbind: the bind takes the submounts along. */
  recursive: boolean;
  /** mount_setattr(2) attributes to set and clear recursively (rro, rnosuid, ...). */
  attrSet: number;
  attrClear: number;
  /** "idmap"/"ridmap": make an id-mapped mount; ridmap maps the submounts too. */
  idmap: boolean;
  idmapRecursive: boolean;
  /** "tmpcopyup": copy the image's content at the destination into the new tmpfs. */
  tmpcopyup: boolean;
  /** Everything else, passed to the filesystem as mount(2) data, joined with ",". */
  data: string[];
}

/**
 * Sort config.json mount options into flags, propagation, recursive attributes and
 * filesystem data. Later options win over earlier ones ("ro", "rw" gives read-write).
 * An unknown option is not an error: like runc, hull hands it to the filesystem,
 * which is the judge of "mode=755" or "size=64k".
 */
export function parseMountOptions(options: readonly string[] | undefined): MountOptions {
  const m: MountOptions = {
    flags: 0, clear: 0, propagation: [], bind: false, recursive: false,
    attrSet: 0, attrClear: 0, idmap: false, idmapRecursive: false, tmpcopyup: false, data: [],
  };
  for (const o of options ?? []) {
    const flag = Object.hasOwn(FLAGS, o) ? FLAGS[o] : undefined;
    if (flag) {
      const [set, bits] = flag;
      if (set) { m.flags |= bits; m.clear &= ~bits; } else { m.flags &= ~bits; m.clear |= bits; }
      continue;
    }
    const prop = Object.hasOwn(PROPAGATION, o) ? PROPAGATION[o] : undefined;
    if (prop !== undefined) { m.propagation.push(prop); continue; }
    const attr = Object.hasOwn(RECURSIVE_ATTRS, o) ? RECURSIVE_ATTRS[o] : undefined;
    if (attr) {
      const [set, bits] = attr;
      // The atime modes are an enum inside a mask (RELATIME is 0, so it is told apart by
      // lying inside _ATIME, not by being non-zero). The kernel wants the whole mask in
      // attr_clr whenever one is chosen, and choosing one drops the one chosen before,
      // so that "rnoatime,rrelatime" ends relatime (runc keeps noatime there).
      const atime = (bits & MOUNT_ATTR._ATIME) === bits;
      if (set) {
        if (atime) m.attrSet &= ~MOUNT_ATTR._ATIME;
        m.attrSet |= bits;
        m.attrClear &= ~bits;
      } else {
        m.attrClear |= bits;
        m.attrSet &= ~bits;
      }
      if (atime) m.attrClear |= MOUNT_ATTR._ATIME;
      continue;
    }
    if (o === 'tmpcopyup') { m.tmpcopyup = true; continue; }
    if (o === 'idmap' || o === 'ridmap') { m.idmap = true; m.idmapRecursive = o === 'ridmap'; continue; }
    m.data.push(o);
  }
  m.bind = (m.flags & MS.BIND) !== 0;
  m.recursive = m.bind && (m.flags & MS.REC) !== 0;
  return m;
}
