import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  readTar, TarFormatError, TarLimitError, TarTruncatedError, TarUnsupportedError, type TarHeader, type TarReaderLimits,
} from '../../src/image/tar/reader.ts';
import { END, entry, gnuLong, header, pax, tar, type RawEntry } from '../integration/helpers/tar-fixtures.ts';

interface Read {
  header: TarHeader;
  data: Buffer;
}

/** Feeds buf in chunks of chunkSize bytes. */
async function* chunks(buf: Buffer, chunkSize = 4096): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += chunkSize) yield buf.subarray(i, i + chunkSize);
}

async function readAll(buf: Buffer, limits: Partial<TarReaderLimits> = {}, chunkSize = 4096): Promise<Read[]> {
  const out: Read[] = [];
  for await (const e of readTar(chunks(buf, chunkSize), limits)) out.push({ header: e.header, data: await e.read() });
  return out;
}

describe('tar reader: formats', () => {
  it('reads ustar entries of every type with their metadata', async () => {
    const archive = tar([
      { name: 'dir/', type: '5', mode: 0o2755, uid: 1000, gid: 100, uname: 'alice', gname: 'users', mtime: 1234567890 },
      { name: 'dir/file', type: '0', mode: 0o4755, data: 'hello world', mtime: 42 },
      { name: 'dir/link', type: '2', linkname: '../target/with spaces', mode: 0o777 },
      { name: 'dir/hard', type: '1', linkname: 'dir/file' },
      { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/sda', type: '4', devmajor: 8, devminor: 0 },
      { name: 'fifo', type: '6' },
      { name: 'contig', type: '7', data: 'c' },
    ]);
    const entries = await readAll(archive);
    assert.deepEqual(
      entries.map((e) => [e.header.path, e.header.type]),
      [['dir/', 'directory'], ['dir/file', 'file'], ['dir/link', 'symlink'], ['dir/hard', 'hardlink'],
        ['dev/null', 'char'], ['dev/sda', 'block'], ['fifo', 'fifo'], ['contig', 'file']],
    );
    const [d, f, l, h, c, b] = entries.map((e) => e.header);
    assert.equal(d!.mode, 0o2755);
    assert.equal(d!.uid, 1000);
    assert.equal(d!.gid, 100);
    assert.equal(d!.uname, 'alice');
    assert.equal(d!.gname, 'users');
    assert.equal(d!.mtime, 1234567890);
    assert.equal(f!.mode, 0o4755);
    assert.equal(f!.size, 11);
    assert.equal(entries[1]!.data.toString(), 'hello world');
    assert.equal(l!.linkpath, '../target/with spaces');
    assert.equal(h!.linkpath, 'dir/file');
    assert.deepEqual([c!.devmajor, c!.devminor], [1, 3]);
    assert.deepEqual([b!.devmajor, b!.devminor], [8, 0]);
    assert.equal(entries[7]!.data.toString(), 'c');
  });

  it('joins the ustar prefix and name', async () => {
    const [e] = await readAll(tar([{ name: 'file.txt', prefix: 'a'.repeat(120) + '/b', data: 'x' }]));
    assert.equal(e!.header.path, `${'a'.repeat(120)}/b/file.txt`);
  });

  it('ignores the prefix area of GNU headers (it holds times there)', async () => {
    const [e] = await readAll(tar([{ name: 'gnu-file', format: 'gnu', prefix: 'not-a-prefix', data: 'g' }]));
    assert.equal(e!.header.path, 'gnu-file');
  });

  it('reads old v7 headers, where a trailing slash marks a directory', async () => {
    const entries = await readAll(tar([{ name: 'olddir/', type: '\0', format: 'v7' }, { name: 'olddir/f', type: '\0', format: 'v7', data: 'v7' }]));
    assert.deepEqual(entries.map((e) => e.header.type), ['directory', 'file']);
    assert.equal(entries[1]!.data.toString(), 'v7');
  });

  it('reads GNU long names and long link targets', async () => {
    const longName = `deep/${'n'.repeat(300)}/file`;
    const longLink = `/${'t'.repeat(250)}`;
    const entries = await readAll(tar([gnuLong(longName, 'L'), gnuLong(longLink, 'K'), { name: 'short', type: '2', linkname: 'short-target', format: 'gnu' }, { name: 'next', data: 'n' }]));
    assert.equal(entries[0]!.header.path, longName);
    assert.equal(entries[0]!.header.linkpath, longLink);
    // The long name applies to one entry only.
    assert.equal(entries[1]!.header.path, 'next');
  });

  it('reads GNU base-256 numbers, including negative times', async () => {
    const big = 2 ** 40 + 5;
    // The second header claims more than 8 GiB of data, beyond octal's reach, and none follows:
    // the headers parse, then skipping the missing data is a truncation.
    const got: TarHeader[] = [];
    await assert.rejects(async () => {
      for await (const e of readTar(chunks(tar([{ name: 'ids', uid: 3_000_000_000, gid: 2 ** 33, mtime: -86400, base256: ['uid', 'gid', 'mtime'] }, header({ name: 'huge', size: big, base256: ['size'] })], { end: false })))) got.push(e.header);
    }, TarTruncatedError);
    assert.equal(got[0]!.uid, 3_000_000_000);
    assert.equal(got[0]!.gid, 2 ** 33);
    assert.equal(got[0]!.mtime, -86400);
    assert.equal(got[1]!.size, big);
  });

  it('reads any chunking of the same archive alike', async () => {
    const archive = tar([
      pax([['path', 'päx/ünïcode-name'], ['SCHILY.xattr.user.k', 'v']]),
      { name: 'a', data: Buffer.alloc(1500, 7) },
      { name: 'b', data: 'x'.repeat(513) },
      { name: 'c/', type: '5' },
    ]);
    const reference = await readAll(archive);
    for (const size of [1, 3, 511, 512, 513, 100_000]) {
      const again = await readAll(archive, {}, size);
      assert.deepEqual(again.map((e) => [e.header.path, e.data]), reference.map((e) => [e.header.path, e.data]), `chunk size ${size}`);
    }
    assert.equal(reference[0]!.header.path, 'päx/ünïcode-name');
  });

  it('reads an empty stream as an empty archive', async () => {
    assert.deepEqual(await readAll(Buffer.alloc(0)), []);
  });
});

describe('tar reader: PAX', () => {
  it('applies path, linkpath, size, ids, names, fractional mtime and xattrs', async () => {
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0x00]);
    const entries = await readAll(
      tar([
        pax([
          ['path', 'long/' + 'p'.repeat(200)],
          ['linkpath', 'l'.repeat(150)],
          ['uid', '4000000000'],
          ['gid', '12345'],
          ['uname', 'üser'],
          ['gname', 'grp'],
          ['mtime', '1700000000.123456789'],
          ['SCHILY.xattr.security.capability', cap],
          ['LIBARCHIVE.xattr.user.with%20space', Buffer.from('bin\0ary').toString('base64')],
        ]),
        { name: 'short', type: '2', linkname: 'x' },
        pax([['mtime', '-1.25'], ['size', '5']]),
        { name: 'neg', data: 'abcde', size: 0 },
      ]),
    );
    const h = entries[0]!.header;
    assert.equal(h.path, 'long/' + 'p'.repeat(200));
    assert.equal(h.linkpath, 'l'.repeat(150));
    assert.equal(h.uid, 4_000_000_000);
    assert.equal(h.gid, 12345);
    assert.equal(h.uname, 'üser');
    assert.equal(h.gname, 'grp');
    assert.equal(h.mtime, 1_700_000_000);
    assert.equal(h.mtimeNsec, 123_456_789);
    assert.deepEqual(h.xattrs.get('security.capability'), cap);
    assert.deepEqual(h.xattrs.get('user.with space'), Buffer.from('bin\0ary'));
    // PAX size overrides the header's, and -1.25 s is 2 s before the epoch plus 0.75 s.
    const n = entries[1]!;
    assert.equal(n.header.size, 5);
    assert.equal(n.data.toString(), 'abcde');
    assert.equal(n.header.mtime, -2);
    assert.equal(n.header.mtimeNsec, 750_000_000);
  });

  it('applies global headers to every later entry, with local records and empty values taking precedence', async () => {
    const entries = await readAll(
      tar([
        { name: 'before', uid: 1 },
        pax([['uid', '77'], ['SCHILY.xattr.user.g', 'global']], 'g'),
        { name: 'first', uid: 2 },
        pax([['uid', '88']]),
        { name: 'second', uid: 3 },
        pax([['uid', '']]),
        { name: 'third', uid: 4 },
      ]),
    );
    assert.deepEqual(entries.map((e) => e.header.uid), [1, 77, 88, 4]);
    assert.equal(entries[0]!.header.xattrs.size, 0);
    assert.equal(entries[3]!.header.xattrs.get('user.g')?.toString(), 'global');
  });

  it('refuses malformed records', async () => {
    for (const bad of [
      Buffer.from('5 a=b\n'), // length does not match
      Buffer.from('x path=a\n'),
      Buffer.from('12 pathnoeq\n'),
      Buffer.from('11 path=abc'),
    ]) {
      await assert.rejects(readAll(tar([entry({ name: 'p', type: 'x', data: bad }), { name: 'f' }])), TarFormatError, bad.toString());
    }
    await assert.rejects(readAll(tar([pax([['uid', '-5']]), { name: 'f' }])), /PAX uid is not a valid number/);
    await assert.rejects(readAll(tar([pax([['mtime', 'soon']]), { name: 'f' }])), /PAX mtime is not a valid time/);
  });

  it('refuses GNU sparse files in both encodings', async () => {
    await assert.rejects(readAll(tar([{ name: 'sparse', type: 'S', format: 'gnu' }])), (e: unknown) => e instanceof TarUnsupportedError && /GNU sparse/.test(e.message));
    await assert.rejects(readAll(tar([pax([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0']]), { name: 'f' }])), TarUnsupportedError);
  });
});

describe('tar reader: integrity', () => {
  it('verifies header checksums', async () => {
    await assert.rejects(readAll(tar([{ name: 'ok', data: 'a' }, { name: 'bad', data: 'b', checksumDelta: 1 }])), (e: unknown) => {
      assert.ok(e instanceof TarFormatError);
      assert.match(e.message, /checksum mismatch/);
      assert.equal(e.offset, 1024);
      return true;
    });
  });

  it('accepts a checksum summed over signed bytes, as some old writers did', async () => {
    const h = header({ name: 'caf\u00e9', data: 'x' });
    let signed = 0;
    for (let i = 0; i < 512; i++) {
      const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
      signed += b > 127 ? b - 256 : b;
    }
    h.write(`${signed.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const [e] = await readAll(Buffer.concat([h, Buffer.from('x'), Buffer.alloc(511), END]));
    assert.equal(e!.header.path, 'café');
  });

  it('refuses a non-octal number field', async () => {
    const h = header({ name: 'f' });
    h.write('12x4', 108, 'latin1'); // uid
    // Fix the checksum so the number itself is what fails.
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    await assert.rejects(readAll(Buffer.concat([h, END])), /uid field is not an octal number/);
  });

  it('refuses names that are not UTF-8', async () => {
    const h = header({ name: 'xx' });
    h[0] = 0xff;
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    await assert.rejects(readAll(Buffer.concat([h, END])), (e: unknown) => e instanceof TarFormatError && /not valid UTF-8/.test(e.message));
  });

  it('ends at two zero blocks and reads (but ignores) whatever follows them', async () => {
    const garbage = Buffer.from('this is not tar, just trailing bytes');
    const archive = Buffer.concat([tar([{ name: 'only', data: 'x' }]), garbage]);
    let pulled = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for await (const c of chunks(archive, 100)) {
        pulled += c.length;
        yield c;
      }
    }
    const names: string[] = [];
    for await (const e of readTar(counting())) names.push(e.header.path);
    assert.deepEqual(names, ['only']);
    assert.equal(pulled, archive.length, 'the whole stream is read, so a digest over it is complete');
  });

  it('accepts a lone zero block at the very end', async () => {
    const entries = await readAll(Buffer.concat([entry({ name: 'f', data: 'x' }), Buffer.alloc(512)]));
    assert.equal(entries.length, 1);
  });

  it('refuses a zero block followed by another header', async () => {
    await assert.rejects(readAll(Buffer.concat([entry({ name: 'a' }), Buffer.alloc(512), entry({ name: 'b' }), END])), /zero block is followed by a header/);
  });

  it('reports truncation wherever the archive stops', async () => {
    const full = tar([pax([['path', 'p'.repeat(300)]]), { name: 'f', data: 'x'.repeat(2000) }]);
    const cases: [number, RegExp][] = [
      [100, /inside a header block/],
      [600, /inside a PAX 'x' header/],
      [1024 + 512 + 1000, /inside the data of/],
      [1024 + 512 + 2000, /inside an entry's data/], // in the padding
      [1024 + 512 + 2048, /without its end-of-archive marker/],
      [1024 + 512 + 2048 + 700, /inside its end-of-archive marker/],
    ];
    for (const [len, re] of cases) {
      await assert.rejects(readAll(full.subarray(0, len)), (e: unknown) => e instanceof TarTruncatedError && re.test(e.message), `cut at ${len}`);
    }
  });

  it('refuses an extended header with no entry after it', async () => {
    await assert.rejects(readAll(tar([pax([['path', 'x']])])), /extended header with no entry/);
  });
});

describe('tar reader: limits', () => {
  /** A source that fails the test if more than `allowed` bytes are pulled from it. */
  function guarded(buf: Buffer, allowed: number): AsyncGenerator<Buffer> {
    return (async function* () {
      let sent = 0;
      for await (const c of chunks(buf, 512)) {
        sent += c.length;
        if (sent > allowed) throw new Error(`the reader pulled past byte ${allowed}`);
        yield c;
      }
    })();
  }

  it('refuses a PAX header over the limit before reading it', async () => {
    const archive = tar([pax([['path', 'p'.repeat(5000)]]), { name: 'f' }]);
    await assert.rejects(
      async () => {
        for await (const _ of readTar(guarded(archive, 512), { maxPaxHeaderBytes: 4096 })) void _;
      },
      (e: unknown) => e instanceof TarLimitError && /PAX 'x' header of \d+ bytes exceeds the limit of 4096/.test(e.message),
    );
  });

  it('refuses a GNU long name over the PAX header limit', async () => {
    await assert.rejects(readAll(tar([gnuLong('n'.repeat(3000)), { name: 'f' }]), { maxPaxHeaderBytes: 1024 }), TarLimitError);
  });

  it('refuses names and link targets over the name limit', async () => {
    await assert.rejects(readAll(tar([pax([['path', 'p'.repeat(300)]]), { name: 'f' }]), { maxNameLength: 255 }), /path of 300 bytes exceeds the limit of 255/);
    await assert.rejects(readAll(tar([gnuLong('k'.repeat(300), 'K'), { name: 'f', type: '2' }]), { maxNameLength: 255 }), TarLimitError);
  });

  it('refuses an entry larger than the remaining allowance before reading its data', async () => {
    const archive = Buffer.concat([entry({ name: 'small', data: 'x' }), header({ name: 'big', size: 10 * 2 ** 30, base256: ['size'] })]);
    await assert.rejects(
      async () => {
        for await (const _ of readTar(guarded(archive, 1536), { maxArchiveBytes: 2 ** 30 })) void _;
      },
      (e: unknown) => e instanceof TarLimitError && /entry "big" of 10737418240 bytes exceeds the archive limit/.test(e.message),
    );
  });

  it('bounds trailing bytes after the end marker by the archive limit too', async () => {
    const archive = Buffer.concat([tar([{ name: 'f', data: 'x' }]), Buffer.alloc(8192, 1)]);
    await assert.rejects(readAll(archive, { maxArchiveBytes: 4096 }), TarLimitError);
  });
});

describe('tar reader: streaming', () => {
  it('skips data the consumer does not read, whole or in part', async () => {
    const archive = tar([{ name: 'a', data: Buffer.alloc(5000, 1) }, { name: 'b', data: Buffer.alloc(3000, 2) }, { name: 'c', data: 'end' }]);
    const seen: string[] = [];
    for await (const e of readTar(chunks(archive, 700))) {
      seen.push(e.header.path);
      if (e.header.path === 'b') {
        for await (const part of e.body()) {
          assert.equal(part[0], 2);
          break; // stop after the first chunk
        }
      }
      if (e.header.path === 'c') assert.equal((await e.read()).toString(), 'end');
    }
    assert.deepEqual(seen, ['a', 'b', 'c']);
  });

  it('refuses to read an entry\'s data after moving on', async () => {
    const it = readTar(chunks(tar([{ name: 'a', data: 'x' }, { name: 'b' }])));
    const first = (await it.next()).value!;
    await it.next();
    await assert.rejects(first.read(), /already read or skipped/);
    await it.return(undefined);
  });

  it('pulls from its source only as the consumer reads (backpressure)', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: Buffer.alloc(64 * 1024, i) }) as RawEntry);
    const archive = tar(parts);
    let pulled = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for await (const c of chunks(archive, 16 * 1024)) {
        pulled++;
        yield c;
      }
    }
    const it = readTar(counting());
    const first = (await it.next()).value!;
    assert.ok(pulled <= 1, `pulled ${pulled} chunks before any data was read`);
    for await (const _ of first.body()) void _;
    assert.ok(pulled <= 6, `pulled ${pulled} chunks for one 64 KiB entry`);
    await it.return(undefined);
  });

  it('closes its source when the consumer stops early', async () => {
    let closed = false;
    const source = (async function* () {
      try {
        yield tar([{ name: 'a', data: 'x' }, { name: 'b' }]);
        yield Buffer.alloc(0);
      } finally {
        closed = true;
      }
    })();
    for await (const e of readTar(source)) if (e.header.path === 'a') break;
    assert.ok(closed);
  });
});

describe('tar reader: archives from other writers', () => {
  it('reads GNU tar (PAX, xattrs) and Python tarfile (GNU long names, base-256) archives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hull-tar-'));
    try {
      const src = join(dir, 'src');
      const long = 'd'.repeat(120);
      mkdirSync(join(src, long), { recursive: true });
      writeFileSync(join(src, long, 'f'.repeat(120)), 'content');
      symlinkSync('t'.repeat(130), join(src, 'sym'));
      const gnu = spawnSync('tar', ['--format=pax', '--numeric-owner', '--owner=1234', '--group=5678', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
      assert.equal(gnu.status, 0, gnu.stderr?.toString());
      const entries = await readAll(gnu.stdout);
      const f = entries.find((e) => e.header.path.endsWith('f'.repeat(120)))!;
      assert.equal(f.header.path, `./${long}/${'f'.repeat(120)}`);
      assert.equal(f.data.toString(), 'content');
      assert.equal(f.header.uid, 1234);
      assert.equal(f.header.gid, 5678);
      assert.equal(entries.find((e) => e.header.type === 'symlink')!.header.linkpath, 't'.repeat(130));

      const py = spawnSync('python3', ['-c', `
import tarfile, io, sys
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as t:
    info = tarfile.TarInfo('g' * 150)
    info.uid = 3000000000
    info.size = 3
    t.addfile(info, io.BytesIO(b'abc'))
sys.stdout.buffer.write(buf.getvalue())
`]);
      assert.equal(py.status, 0, py.stderr.toString());
      const [p] = await readAll(py.stdout);
      assert.equal(p!.header.path, 'g'.repeat(150));
      assert.equal(p!.header.uid, 3_000_000_000);
      assert.equal(p!.data.toString(), 'abc');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tar reader: sources that reuse their memory', () => {
  /**
   * Yields each piece as a view of one of two buffers, written in turn: a piece stays intact only
   * until the one after it has been asked for (what gunzip's reuseOutput gives unpack).
   */
  async function* reusing(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
    const ring = [Buffer.alloc(Math.max(...sizes)), Buffer.alloc(Math.max(...sizes))];
    let turn = 0;
    for (let i = 0, k = 0; i < buf.length; k++) {
      const n = Math.min(sizes[k % sizes.length]!, buf.length - i);
      const slot = ring[turn++ % 2]!;
      buf.copy(slot, 0, i, i + n);
      i += n;
      yield slot.subarray(0, n);
    }
  }

  it('reads headers, PAX records and long names that span pieces, as from fresh buffers', async () => {
    const archive = tar([
      pax([['path', 'a/'.repeat(600) + 'deep'], ['SCHILY.xattr.user.big', Buffer.alloc(3000, 7)]]),
      { name: 'ignored', type: '0', data: Buffer.alloc(5000, 1) },
      gnuLong('l/'.repeat(300) + 'long'),
      { name: 'short', type: '0', data: 'x' },
      { name: 'dir/', type: '5' },
      { name: 'dir/file', type: '0', data: Buffer.alloc(70_000, 2) },
    ]);
    const expected = await readAll(archive);
    for (const sizes of [[1], [7, 100], [511, 513], [512], [1000, 3], [4096, 1, 600]]) {
      const got: Read[] = [];
      for await (const e of readTar(reusing(archive, sizes))) {
        // a piece is used before the next is asked for, as unpack writes each one out
        const parts: Buffer[] = [];
        for await (const part of e.body()) parts.push(Buffer.from(part));
        got.push({ header: e.header, data: Buffer.concat(parts) });
      }
      assert.deepEqual(got, expected, `pieces of ${sizes.join(', ')}`);
    }
  });
});
