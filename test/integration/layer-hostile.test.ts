// Hostile layers: each must fail with a clear error and leave no directory behind. Needs root
// (the layers that fail late have already made device nodes and chowned files).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LayerFormatError, LayerLimitError } from '../../src/image/layer/decompress.ts';
import { LayerUnpackError, unpackLayer, type UnpackOptions } from '../../src/image/layer/unpack.ts';
import { TarFormatError, TarLimitError, TarTruncatedError, TarUnsupportedError } from '../../src/image/tar/reader.ts';
import { dir, file, gzip, hardlink, header, pax, symlink, tar, type RawEntry } from './helpers/tar-fixtures.ts';

let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'hull-hostile-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A few ordinary entries first, so a failure has something to clean up. */
const preamble: RawEntry[] = [dir('etc/'), file('etc/os-release', 'ID=test\n', { uid: 12 }), { name: 'dev/null', type: '3', devmajor: 1, devminor: 3 }, symlink('bin', 'usr/bin')];

/** Unpacks blob, expects the error to match, and checks that the target directory is gone. */
async function refused(blob: Buffer, match: (e: unknown) => boolean, opts: UnpackOptions = {}): Promise<string> {
  const i = ++n;
  const src = join(root, `blob-${i}`);
  writeFileSync(src, blob);
  const out = join(root, `layer-${i}`);
  await assert.rejects(unpackLayer(src, out, opts), (e: unknown) => {
    assert.ok(match(e), `unexpected error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return true;
  });
  assert.equal(existsSync(out), false, 'the layer directory was removed');
  return out;
}

const unpackError = (re: RegExp) => (e: unknown) => e instanceof LayerUnpackError && re.test(e.message);

describe('hostile layers: paths', () => {
  it('refuses an absolute path', async () => {
    await refused(tar([...preamble, file('/etc/passwd', 'root::0:0::/:/bin/sh')]), unpackError(/entry "\/etc\/passwd": path is absolute/));
  });

  it('refuses a ".." component', async () => {
    await refused(tar([...preamble, file('etc/../../escaped', 'x')]), unpackError(/entry "etc\/..\/..\/escaped": path has a "\.\." component/));
  });

  it('refuses to write through a symlink that points outside', async () => {
    const outside = join(root, `outside-${++n}`);
    mkdirSync(outside);
    await refused(tar([...preamble, symlink('evil', outside), file('evil/pwned', 'x')]), unpackError(/entry "evil\/pwned": its parent "evil" is a symlink/));
    assert.deepEqual(readdirSync(outside), []);
  });

  it('refuses to write through any symlink, even one pointing inside', async () => {
    await refused(tar([...preamble, dir('real/'), symlink('alias', 'real'), file('alias/f', 'x')]), unpackError(/parent "alias" is a symlink/));
    await refused(tar([...preamble, symlink('loop', '.'), dir('loop/deeper/')]), unpackError(/parent "loop" is a symlink/));
  });

  it('refuses a path under a file', async () => {
    await refused(tar([...preamble, file('etc/os-release/sub', 'x')]), unpackError(/parent "etc\/os-release" is not a directory/));
  });

  it('refuses a whiteout naming "..", "." or nothing', async () => {
    await refused(tar([...preamble, file('etc/.wh...')]), unpackError(/whiteout names "\.\."/));
    await refused(tar([...preamble, file('etc/.wh..')]), unpackError(/whiteout names "\."/));
    await refused(tar([...preamble, file('etc/.wh.')]), unpackError(/whiteout names ""/));
  });
});

describe('hostile layers: hard links', () => {
  it('refuses an absolute target', async () => {
    await refused(tar([...preamble, hardlink('shadow', '/etc/shadow')]), unpackError(/hard link target is absolute/));
  });

  it('refuses a target with ".."', async () => {
    await refused(tar([...preamble, hardlink('shadow', 'etc/../../../etc/shadow')]), unpackError(/hard link target has a "\.\." component/));
  });

  it('refuses a target through a symlink', async () => {
    const outside = join(root, `outside-${++n}`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 's');
    await refused(tar([...preamble, symlink('out', outside), hardlink('stolen', 'out/secret')]), unpackError(/hard link target "out\/secret" goes through the symlink "out"/));
  });

  it('refuses a link to a directory', async () => {
    await refused(tar([...preamble, hardlink('etc2', 'etc')]), unpackError(/hard link to the directory "etc"/));
  });

  it('refuses a link to a name the layer deleted', async () => {
    await refused(tar([...preamble, file('etc/.wh.os-release'), hardlink('x', 'etc/os-release')]), unpackError(/which this layer deletes/));
  });
});

describe('hostile layers: limits', () => {
  it('refuses more entries than allowed', async () => {
    const many = Array.from({ length: 20 }, (_, i) => file(`f${i}`, 'x'));
    await refused(tar([...preamble, ...many]), unpackError(/has more than the limit of 10 entries/), { limits: { maxEntries: 10 } });
  });

  it('refuses a header claiming a huge size, before reading it', async () => {
    const blob = Buffer.concat([tar(preamble, { end: false }), header({ name: 'huge', size: 2 ** 45, base256: ['size'] })]);
    await refused(
      blob,
      (e) => e instanceof LayerLimitError && /exceeds the limit of 1073741824 bytes uncompressed/.test(e.message) && /entry "huge" of 35184372088832 bytes/.test(e.message),
      { limits: { maxUncompressedBytes: 2 ** 30 } },
    );
  });

  it('refuses a decompression bomb beyond the limit', async () => {
    // Many small files, each within the limit, and far more in total.
    const zeros = Array.from({ length: 64 }, (_, i) => file(`z${i}`, Buffer.alloc(256 * 1024)));
    await refused(gzip(tar([...preamble, ...zeros])), (e) => e instanceof LayerLimitError && /^layer .* exceeds the limit of 4194304 bytes uncompressed/.test(e.message), {
      limits: { maxUncompressedBytes: 4 << 20 },
    });
  });

  it('refuses zeros after the end marker beyond the limit', async () => {
    await refused(gzip(Buffer.concat([tar(preamble), Buffer.alloc(8 << 20)])), (e) => e instanceof LayerLimitError && /exceeds the limit of 1048576 bytes uncompressed/.test(e.message), {
      limits: { maxUncompressedBytes: 1 << 20 },
    });
  });

  it('refuses an oversized PAX header', async () => {
    await refused(tar([...preamble, pax([['path', 'p'.repeat(70_000)]]), file('f')]), (e) => e instanceof TarLimitError && /PAX 'x' header of \d+ bytes exceeds the limit of 65536/.test(e.message), {
      limits: { maxPaxHeaderBytes: 65536 },
    });
  });
});

describe('hostile layers: devices and types', () => {
  it('refuses device nodes when devices are not allowed', async () => {
    await refused(tar([dir('dev/'), { name: 'dev/sda', type: '4', devmajor: 8, devminor: 0 }]), unpackError(/block device 8:0 refused: device nodes are not allowed/), { allowDevices: false });
    await refused(tar([{ name: 'mem', type: '3', devmajor: 1, devminor: 1 }]), unpackError(/character device 1:1 refused/), { allowDevices: false });
  });

  it('still makes fifos and whiteouts when devices are not allowed', async () => {
    const src = join(root, `blob-${++n}`);
    writeFileSync(src, tar([{ name: 'fifo', type: '6' }, file('.wh.gone')]));
    const out = join(root, `layer-${n}`);
    const r = await unpackLayer(src, out, { allowDevices: false });
    assert.equal(r.entries, 2);
  });

  it('refuses GNU sparse files', async () => {
    await refused(tar([...preamble, { name: 'sparse', type: 'S', format: 'gnu' }]), (e) => e instanceof TarUnsupportedError && /GNU sparse files are not supported/.test(e.message));
  });

  it('refuses unknown entry types', async () => {
    await refused(tar([...preamble, { name: 'odd', type: 'Z' }]), unpackError(/entry "odd": unsupported entry type 'Z'/));
  });
});

describe('hostile layers: broken archives', () => {
  it('refuses a truncated tar', async () => {
    const whole = tar([...preamble, file('big', Buffer.alloc(100_000, 1))]);
    await refused(whole.subarray(0, 50_000), (e) => e instanceof TarTruncatedError && /archive ends inside the data of "big"/.test(e.message));
    await refused(gzip(whole.subarray(0, whole.length - 1024)), (e) => e instanceof TarTruncatedError && /without its end-of-archive marker/.test(e.message));
  });

  it('refuses a truncated gzip stream', async () => {
    const z = gzip(tar([...preamble, file('big', Buffer.alloc(100_000, 1))]));
    await refused(z.subarray(0, z.length - 20), (e) => e instanceof LayerFormatError && /gzip data is corrupt/.test(e.message));
  });

  it('refuses data after the gzip stream, other than zero padding', async () => {
    const z = gzip(tar([...preamble, file('f', 'x')]));
    await refused(Buffer.concat([z, Buffer.from('a tail that is no gzip member')]), (e) => e instanceof LayerFormatError && /gzip data is corrupt: invalid gzip header/.test(e.message));
    await refused(Buffer.concat([z, Buffer.alloc(64), Buffer.from([1])]), (e) => e instanceof LayerFormatError && /gzip data is corrupt: unexpected data after the zero bytes/.test(e.message));
  });

  it('refuses data that is not a tar', async () => {
    await refused(Buffer.alloc(4096, 0x41), (e) => e instanceof TarFormatError && /not a tar archive or corrupt/.test(e.message));
    await refused(Buffer.alloc(4096, 0x30), (e) => e instanceof TarFormatError && /checksum mismatch .* not a tar archive or corrupt/.test(e.message));
    await refused(Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(100)]), (e) => e instanceof LayerFormatError && /xz-compressed/.test(e.message));
  });

  it('refuses an existing directory and leaves it alone', async () => {
    const src = join(root, `blob-${++n}`);
    writeFileSync(src, tar(preamble));
    const out = join(root, `existing-${n}`);
    mkdirSync(out);
    writeFileSync(join(out, 'mine'), 'keep');
    await assert.rejects(unpackLayer(src, out), unpackError(/already exists/));
    assert.deepEqual(readdirSync(out), ['mine']);
  });

  it('removes everything when aborted half-way', async () => {
    const blob = gzip(tar(Array.from({ length: 2000 }, (_, i) => file(`d${i % 20}/f${i}`, 'x'.repeat(i)))));
    const out = join(root, `layer-${++n}`);
    const controller = new AbortController();
    // A source that yields small pieces, one per turn of the event loop, and aborts once files exist.
    async function* slow(): AsyncGenerator<Buffer> {
      for (let i = 0; i < blob.length; i += 1024) {
        await new Promise((r) => setImmediate(r));
        if (existsSync(join(out, 'd0'))) controller.abort(new Error('cancelled by the test'));
        yield blob.subarray(i, i + 1024);
      }
    }
    await assert.rejects(unpackLayer(Readable.from(slow()), out, { signal: controller.signal }), /cancelled by the test/);
    assert.equal(existsSync(out), false);
  });
});
