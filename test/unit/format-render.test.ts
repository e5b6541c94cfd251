// Tests of docker's `--format` front end: tables, json rows, inspect output, and the
// tabwriter that aligns columns.
//
// Outputs marked "from Go" were produced by Go 1.19 running docker/cli's formatter logic
// (formatter.Context: preFormat, the header pass with HeaderFunctions, and
// tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)) and encoding/json, on the same data.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runeWidth, stringWidth } from '../../src/cli/format/cellwidth.ts';
import { encodeJson, JsonEncodeError } from '../../src/cli/format/json.ts';
import { FormatError, goMap, renderInspect, renderOne, renderRows } from '../../src/cli/format/render.ts';
import { DOCKER_TABLE, TabWriter, TabWriterError, tabwrite, type TabWriterOptions } from '../../src/cli/format/tabwriter.ts';

/** `docker images` rows; Symbol.toStringTag gives the Go type name that errors mention. */
function imageRows() {
  const row = (r: Record<string, string>) => ({ [Symbol.toStringTag]: 'main.ImgRow', ...r });
  return [
    row({ Repository: 'busybox', Tag: 'latest', ID: '9c7a54a9a43c', CreatedSince: '2 years ago', Size: '4.26MB', Digest: '<none>', Containers: 'N/A' }),
    row({ Repository: 'registry.local:5000/team/very-long-application-name', Tag: 'v1.2.3-rc.1', ID: '0123456789ab', CreatedSince: '3 days ago', Size: '123MB', Digest: 'sha256:abc', Containers: 'N/A' }),
    row({ Repository: '<none>', Tag: '<none>', ID: 'fedcba987654', CreatedSince: 'About a minute ago', Size: '0B', Digest: '<none>', Containers: 'N/A' }),
  ];
}

const IMAGE_HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  Size: 'SIZE',
  Digest: 'DIGEST',
  Containers: 'CONTAINERS',
};

function render(format: string): { out: string; err: string } {
  try {
    return { out: renderRows(format, imageRows(), { headers: IMAGE_HEADERS }), err: '' };
  } catch (e) {
    assert.ok(e instanceof FormatError, `expected a FormatError, got ${String(e)}`);
    return { out: '', err: e.message };
  }
}

const ROW_CASES: ReadonlyArray<readonly [string, string, string?]> = [
  ["table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}", "REPOSITORY                                            TAG           IMAGE ID       CREATED              SIZE\nbusybox                                               latest        9c7a54a9a43c   2 years ago          4.26MB\nregistry.local:5000/team/very-long-application-name   v1.2.3-rc.1   0123456789ab   3 days ago           123MB\n<none>                                                <none>        fedcba987654   About a minute ago   0B\n"],
  ["table {{.ID}}\\t{{.Size}}", "IMAGE ID       SIZE\n9c7a54a9a43c   4.26MB\n0123456789ab   123MB\nfedcba987654   0B\n"],
  ["{{.Repository}}:{{.Tag}}", "busybox:latest\nregistry.local:5000/team/very-long-application-name:v1.2.3-rc.1\n<none>:<none>\n"],
  ["{{.Repository}}\\t{{.Tag}}", "busybox\tlatest\nregistry.local:5000/team/very-long-application-name\tv1.2.3-rc.1\n<none>\t<none>\n"],
  ["json", "{\"Containers\":\"N/A\",\"CreatedSince\":\"2 years ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"9c7a54a9a43c\",\"Repository\":\"busybox\",\"Size\":\"4.26MB\",\"Tag\":\"latest\"}\n{\"Containers\":\"N/A\",\"CreatedSince\":\"3 days ago\",\"Digest\":\"sha256:abc\",\"ID\":\"0123456789ab\",\"Repository\":\"registry.local:5000/team/very-long-application-name\",\"Size\":\"123MB\",\"Tag\":\"v1.2.3-rc.1\"}\n{\"Containers\":\"N/A\",\"CreatedSince\":\"About a minute ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"fedcba987654\",\"Repository\":\"\\u003cnone\\u003e\",\"Size\":\"0B\",\"Tag\":\"\\u003cnone\\u003e\"}\n"],
  ["{{json .}}", "{\"Containers\":\"N/A\",\"CreatedSince\":\"2 years ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"9c7a54a9a43c\",\"Repository\":\"busybox\",\"Size\":\"4.26MB\",\"Tag\":\"latest\"}\n{\"Containers\":\"N/A\",\"CreatedSince\":\"3 days ago\",\"Digest\":\"sha256:abc\",\"ID\":\"0123456789ab\",\"Repository\":\"registry.local:5000/team/very-long-application-name\",\"Size\":\"123MB\",\"Tag\":\"v1.2.3-rc.1\"}\n{\"Containers\":\"N/A\",\"CreatedSince\":\"About a minute ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"fedcba987654\",\"Repository\":\"\\u003cnone\\u003e\",\"Size\":\"0B\",\"Tag\":\"\\u003cnone\\u003e\"}\n"],
  ["table {{.Repository}}", "REPOSITORY\nbusybox\nregistry.local:5000/team/very-long-application-name\n<none>\n"],
  ["table", "\n\n\n\n"],
  [" table {{.ID}}", "table 9c7a54a9a43c\ntable 0123456789ab\ntable fedcba987654\n"],
  ["table {{.Repository}}\\t{{.Foo}}", "", "template parsing error: template: :1:18: executing \"\" at <.Foo>: can't evaluate field Foo in type main.ImgRow"],
  ["table {{.Repository}}\\t{{json .Tag}}\\t{{upper .ID}}", "REPOSITORY                                            TAG             IMAGE ID\nbusybox                                               \"latest\"        9C7A54A9A43C\nregistry.local:5000/team/very-long-application-name   \"v1.2.3-rc.1\"   0123456789AB\n<none>                                                \"<none>\"        FEDCBA987654\n"],
  ["table {{.Repository}}:{{.Tag}}\\t{{.Size}}", "REPOSITORY:TAG                                                    SIZE\nbusybox:latest                                                    4.26MB\nregistry.local:5000/team/very-long-application-name:v1.2.3-rc.1   123MB\n<none>:<none>                                                     0B\n"],
  ["table {{pad .ID 1 1}}\\t{{.Tag}}", " IMAGE ID        TAG\n 9c7a54a9a43c    latest\n 0123456789ab    v1.2.3-rc.1\n fedcba987654    <none>\n"],
  ["table {{truncate .Repository 10}}\\t{{.Tag}}", "REPOSITORY   TAG\nbusybox      latest\nregistry.l   v1.2.3-rc.1\n<none>       <none>\n"],
  ["table {{.Repository}}\\t{{.Tag}}\\n", "REPOSITORY   TAG\n\nbusybox   latest\n\nregistry.local:5000/team/very-long-application-name   v1.2.3-rc.1\n\n<none>    <none>\n\n"],
  ["table {{.Repository}} {{.Tag}}", "REPOSITORY TAG\nbusybox latest\nregistry.local:5000/team/very-long-application-name v1.2.3-rc.1\n<none> <none>\n"],
  ["table {{if eq .Tag \"latest\"}}*{{end}}{{.Repository}}\\t{{.ID}}", "REPOSITORY                                            IMAGE ID\n*busybox                                              9c7a54a9a43c\nregistry.local:5000/team/very-long-application-name   0123456789ab\n<none>                                                fedcba987654\n"],
  ["table {{.ID}}\\t{{printf \"%.5s\" .Repository}}", "IMAGE ID       REPOS\n9c7a54a9a43c   busyb\n0123456789ab   regis\nfedcba987654   <none\n"],
  ["table {{.Repository}}\\t{{.Tag | lower}}\\t{{json .Size}}", "REPOSITORY                                            TAG           SIZE\nbusybox                                               latest        \"4.26MB\"\nregistry.local:5000/team/very-long-application-name   v1.2.3-rc.1   \"123MB\"\n<none>                                                <none>        \"0B\"\n"],
  ["table {{.ID}}\\t{{index .Labels \"x\"}}\\t{{.Size}}", "", "template parsing error: template: :1:16: executing \"\" at <.Labels>: can't evaluate field Labels in type main.ImgRow"],
  ["table   {{.ID}}\\t{{.Tag}}   ", "IMAGE ID       TAG\n9c7a54a9a43c   latest\n0123456789ab   v1.2.3-rc.1\nfedcba987654   <none>\n"],
  ["{{.ID}}", "9c7a54a9a43c\n0123456789ab\nfedcba987654\n"],
  ["{{.Repository", "", "template parsing error: template: :1: unclosed action"],
  ["table {{.Size}}\\t{{.ID}}\\t", "SIZE      IMAGE ID       \n4.26MB    9c7a54a9a43c   \n123MB     0123456789ab   \n0B        fedcba987654   \n"],
  ["table {{.Digest}}\\t\\t{{.ID}}", "DIGEST                 IMAGE ID\n<none>                 9c7a54a9a43c\nsha256:abc             0123456789ab\n<none>                 fedcba987654\n"],
  ["{{upper .Tag}}\\n{{lower .Repository}}", "LATEST\nbusybox\nV1.2.3-RC.1\nregistry.local:5000/team/very-long-application-name\n<NONE>\n<none>\n"],
];

const INDENTED = "[\n    {\n        \"Id\": \"sha256:abc\",\n        \"RepoTags\": [\n            \"a:1\"\n        ],\n        \"Size\": 42,\n        \"Ratio\": 0.25,\n        \"Tiny\": 1e-7,\n        \"Big\": 1e+21,\n        \"Config\": {\n            \"Env\": [\n                \"A=1\"\n            ],\n            \"Labels\": {\n                \"a\": \"\\u003c\\u0026\\u003e\",\n                \"b\": \"2\"\n            },\n            \"Cmd\": [\n                \"sh\",\n                \"-c\",\n                \"x \\u0026\\u0026 y\"\n            ],\n            \"Entrypoint\": null,\n            \"ExposedPorts\": {\n                \"80/tcp\": {}\n            },\n            \"Empty\": [],\n            \"EmptyMap\": {}\n        },\n        \"Text\": \"tab\\t nl\\n q\\\" bs\\\\ bell\\u0007 uni\\u2028 é 😀\"\n    }\n]\n";

const COMPACT = "[{\"Id\":\"sha256:abc\",\"RepoTags\":[\"a:1\"],\"Size\":42,\"Ratio\":0.25,\"Tiny\":1e-7,\"Big\":1e+21,\"Config\":{\"Env\":[\"A=1\"],\"Labels\":{\"a\":\"\\u003c\\u0026\\u003e\",\"b\":\"2\"},\"Cmd\":[\"sh\",\"-c\",\"x \\u0026\\u0026 y\"],\"Entrypoint\":null,\"ExposedPorts\":{\"80/tcp\":{}},\"Empty\":[],\"EmptyMap\":{}},\"Text\":\"tab\\t nl\\n q\\\" bs\\\\ bell\\u0007 uni\\u2028 é 😀\"}]";

describe('docker images --format (from Go)', () => {
  for (const [format, out, err = ''] of ROW_CASES) {
    test(format, () => {
      assert.deepEqual(render(format), { out, err });
    });
  }
});

describe('renderRows', () => {
  test('with no rows a table still has its header, other formats print nothing (from Go)', () => {
    const headers = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID' };
    assert.equal(renderRows('table {{.Repository}}\\t{{.Tag}}', [], { headers }), 'REPOSITORY   TAG\n');
    assert.equal(renderRows('{{.ID}}', [], { headers }), '');
    assert.equal(renderRows('table {{.Nope}}', [], { headers }), '<no value>\n');
  });

  test("'' and 'table' mean the command's default format; 'raw' its raw format", () => {
    const ctx = { headers: IMAGE_HEADERS, table: 'table {{.ID}}\\t{{.Tag}}', raw: 'image_id: {{.ID}}\\ntag: {{.Tag}}\\n' };
    const rows = imageRows().slice(0, 1);
    const table = 'IMAGE ID       TAG\n9c7a54a9a43c   latest\n';
    assert.equal(renderRows('', rows, ctx), table);
    assert.equal(renderRows('table', rows, ctx), table);
    assert.equal(renderRows('raw', rows, ctx), 'image_id: 9c7a54a9a43c\ntag: latest\n\n');
    assert.equal(renderRows('{{.ID}}', rows, { ...ctx, table: '{{.ID}}' }), '9c7a54a9a43c\n');
  });

  test('a header that fails part way is printed as far as it got, as docker does (from Go)', () => {
    const labels: Record<string, string> = { app: 'frontend' };
    const rows = [{ Names: 'web', Status: 'Up 2 hours', Label: (name: string) => labels[name] ?? '' }];
    const out = renderRows('table {{.Names}}\\t{{.Label "app"}}\\t{{.Status}}', rows, { headers: { Names: 'NAMES', Status: 'STATUS' } });
    assert.equal(out, 'NAMES     \nweb       frontend   Up 2 hours\n');
  });

  test('json rows: keys sorted, <>& escaped as json.Marshal does; nested values keep their order', () => {
    const rows = [{ Name: 'a&b', Mounts: { z: 1, a: 2 }, Labels: goMap({ z: '1', a: '<2>' }) }];
    assert.equal(renderRows('json', rows, { headers: {} }), '{"Labels":{"a":"\\u003c2\\u003e","z":"1"},"Mounts":{"z":1,"a":2},"Name":"a\\u0026b"}\n');
    // The json function on anything but the row itself does not escape.
    assert.equal(renderRows('{{json .Name}}', rows, { headers: {} }), '"a&b"\n');
  });

  test('the errors are FormatErrors that say whether parsing or execution failed', () => {
    assert.throws(() => renderRows('{{.ID', imageRows(), { headers: IMAGE_HEADERS }), (e: unknown) => {
      assert.ok(e instanceof FormatError);
      assert.equal(e.kind, 'parse');
      assert.equal(e.message, 'template parsing error: template: :1: unclosed action');
      return true;
    });
    assert.throws(() => renderRows('{{.Nope}}', imageRows(), { headers: IMAGE_HEADERS }), (e: unknown) => {
      assert.ok(e instanceof FormatError);
      assert.equal(e.kind, 'execute');
      return true;
    });
  });

  test('a wide-character column is aligned by display width, as docker\'s tabwriter does', () => {
    const rows = [
      { Name: '名前', ID: '1' },
      { Name: 'web', ID: '2' },
      { Name: 'コンテナ名前です', ID: '3' },
    ];
    const out = renderRows('table {{.Name}}\\t{{.ID}}', rows, { headers: { Name: 'NAME', ID: 'ID' } });
    // Widest cell: 8 wide characters = 16 columns, plus padding 3.
    assert.equal(out, ['NAME' + ' '.repeat(15) + 'ID', '名前' + ' '.repeat(15) + '1', 'web' + ' '.repeat(16) + '2', 'コンテナ名前です   3', ''].join('\n'));
  });
});

describe('renderOne and renderInspect: docker inspect --format', () => {
  const image = () => ({
    Id: 'sha256:abc',
    Os: 'linux',
    Config: { Labels: { 'com.example.x': 'y', maintainer: 'Jo' }, Env: ['A=1'] },
  });

  test('a template runs on the value as typed', () => {
    assert.equal(renderOne('{{.Id}} {{.Os}} {{.Config.Env}}', image()), 'sha256:abc linux [A=1]');
  });

  test('when the typed pass fails, the map pass runs, as docker falls back to decoded JSON', () => {
    // Labels is a plain object, so `index` on it fails as a struct but works as a map.
    assert.equal(renderOne('{{index .Config.Labels "com.example.x"}}', image()), 'y');
    // The typed pass succeeds here, printing the undeclared map as a struct; goMap fixes that.
    assert.equal(renderOne('{{.Config}}', image()), '{{y Jo} [A=1]}');
    const declared = { ...image(), Config: { Labels: goMap({ 'com.example.x': 'y', maintainer: 'Jo' }, ''), Env: ['A=1'] } };
    assert.equal(renderOne('{{.Config}}|{{.Config.Labels.nope}}', declared), '{map[com.example.x:y maintainer:Jo] [A=1]}|<no value>');
  });

  test("when both fail, the map pass's error is reported (from Go)", () => {
    assert.throws(() => renderOne('{{.Config.Labels.missing}}', image()), {
      name: 'FormatError',
      message: 'template parsing error: template: :1:9: executing "" at <.Config.Labels.missing>: map has no entry for key "missing"',
    });
    assert.throws(() => renderOne('{{.Foo}}', image()), {
      message: 'template parsing error: template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"',
    });
  });

  test('inspect does not turn \\t into a tab, unlike list formats', () => {
    assert.equal(renderOne('{{.Os}}\\t{{.Id}}', image()), 'linux\\tsha256:abc');
  });

  test("'' prints an indented JSON array and 'json' a compact one, as Go's encoding/json does (from Go)", () => {
    const v = [
      {
        Id: 'sha256:abc',
        RepoTags: ['a:1'],
        Size: 42,
        Ratio: 0.25,
        Tiny: 1e-7,
        Big: 1e21,
        Config: {
          Env: ['A=1'],
          Labels: goMap({ b: '2', a: '<&>' }, ''),
          Cmd: ['sh', '-c', 'x && y'],
          Entrypoint: null,
          ExposedPorts: goMap({ '80/tcp': {} }),
          Empty: [],
          EmptyMap: goMap({}),
        },
        Text: 'tab\t nl\n q" bs\\ bell\u0007 uni\u2028 é 😀',
      },
    ];
    assert.equal(renderInspect('', v).output, INDENTED);
    assert.equal(renderInspect('json', v).output, `${COMPACT}\n`);
    assert.deepEqual(renderInspect('', []), { output: '[]\n', errors: [] });
  });

  test('a template prints a line per value and collects the failures', () => {
    const a = { Name: 'a', Labels: goMap({ x: '1' }, '') };
    const b = { Name: 'b' };
    const result = renderInspect('{{.Name}}={{.Labels.x}}', [a, b]);
    assert.equal(result.output, 'a=1\n');
    assert.deepEqual(result.errors, ['template parsing error: template: :1:19: executing "" at <.Labels.x>: map has no entry for key "Labels"']);
    assert.deepEqual(renderInspect('{{.Nope}}', [b]), {
      output: '\n',
      errors: ['template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'],
    });
  });

  test('a template that does not parse fails before anything is printed', () => {
    assert.throws(() => renderInspect('{{if}}', [{}]), (e: unknown) => e instanceof FormatError && e.kind === 'parse');
  });
});

describe('tabwriter (from Go)', () => {
  const opts = (extra: Partial<TabWriterOptions> = {}): TabWriterOptions => ({ ...DOCKER_TABLE, ...extra });
  const cases: Array<[string, TabWriterOptions, string]> = [
    ['REPOSITORY\tTAG\tIMAGE ID\n busybox\tlatest\tabc\nalpine-very-long-name\t3.19\tdef\n', opts(), 'REPOSITORY              TAG       IMAGE ID\n busybox                latest    abc\nalpine-very-long-name   3.19      def\n'],
    ['a\tb\tc\nx\ny\tzz\n', opts(), 'a         b         c\nx\ny         zz\n'],
    ['a\tb\n\tc\n', opts(), 'a         b\n          c\n'],
    ['a\tb', opts(), 'a         b'],
    ['aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n', opts(), 'aaaa      bbb       d\naa        b         dd\na         \naa        cccc      eee\n'],
    ['a\tb\n', opts({ alignRight: true }), '         ab\n'],
    ['\vb\n\vc\n', opts({ discardEmptyColumns: true }), 'b\nc\n'],
    ['\ta\tb\n', opts({ tabIndent: true }), '\t\t\t\t\t\t\t\t\t\ta         b\n'],
    ['a\tb\nc\td\n', opts({ debug: true }), 'a         |b\nc         |d\n'],
    ['a\tb\fc\td\n', opts(), 'a         b\nc         d\n'],
    ['ab\tc\n', opts({ padChar: '\t' }), 'ab\t\t\t\t\t\t\t\tc\n'],
    ['', opts(), ''],
    ['\n\n', opts(), '\n\n'],
  ];
  for (const [input, o, want] of cases) {
    test(JSON.stringify(input), () => {
      assert.equal(tabwrite(input, o), want);
    });
  }

  test('writing in pieces gives the same output as writing at once', () => {
    const text = 'NAME\tIMAGE\tSTATUS\nweb\tnginx:1.25\tUp 2 hours\ndb\tpostgres:16-alpine\tExited (0) 3 days ago\nlonely line\nx\ty\n';
    const whole = tabwrite(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const w = new TabWriter(DOCKER_TABLE);
      w.write(text.slice(0, cut));
      w.write(text.slice(cut));
      assert.equal(w.flush(), whole, `cut at ${cut}`);
    }
  });

  test('the last cell of a line is never padded, and the writer is reusable after flush', () => {
    const w = new TabWriter(DOCKER_TABLE);
    // The last cell of a line belongs to no column, even when a tab ends it.
    w.write('a\tb\nplain line\nc\t');
    assert.equal(w.flush(), 'a         b\nplain line\nc');
    w.write('next\n');
    assert.equal(w.flush(), 'next\n');
  });

  test('bad settings are refused', () => {
    assert.throws(() => new TabWriter({ ...DOCKER_TABLE, minWidth: -1 }), TabWriterError);
    assert.throws(() => new TabWriter({ ...DOCKER_TABLE, padChar: '' }), TabWriterError);
    assert.throws(() => new TabWriter({ ...DOCKER_TABLE, padChar: '--' }), TabWriterError);
  });
});

describe('cell width', () => {
  test('wide characters take two cells, marks and controls none', () => {
    assert.equal(stringWidth('abc'), 3);
    assert.equal(stringWidth('名前'), 4);
    assert.equal(stringWidth('Ａｂ'), 4); // fullwidth forms
    assert.equal(stringWidth('ｱｲ'), 2); // halfwidth katakana
    assert.equal(stringWidth('e\u0301'), 1); // e and a combining acute
    assert.equal(stringWidth('😀'), 2);
    assert.equal(stringWidth('👨‍👩‍👧'), 2); // one grapheme cluster
    assert.equal(stringWidth('a\u200bb'), 2); // zero width space
    assert.equal(stringWidth('\t\u0007'), 0);
    assert.equal(runeWidth('\u00ad'), 0);
    assert.equal(runeWidth('한'), 2);
  });
});

describe('JSON encoding', () => {
  test('maps sort their keys, structs keep their order, toJSON is honoured', () => {
    assert.equal(encodeJson({ b: 1, a: new Map([['y', 1], ['x', 2]]), d: new Date(0) }), '{"b":1,"a":{"x":2,"y":1},"d":"1970-01-01T00:00:00.000Z"}');
  });

  test('strings are escaped as Go escapes them', () => {
    assert.equal(encodeJson('\b\f\u0001\u2029<&>\ud800'), '"\\b\\f\\u0001\\u2029<&>\\ufffd"');
    assert.equal(encodeJson('<&>', { escapeHTML: true }), '"\\u003c\\u0026\\u003e"');
  });

  test('what Go cannot encode is an error', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => encodeJson(cycle), JsonEncodeError);
    assert.throws(() => encodeJson(Number.POSITIVE_INFINITY), { message: 'json: unsupported value: +Inf' });
    assert.throws(() => encodeJson(() => 1), JsonEncodeError);
  });
});
