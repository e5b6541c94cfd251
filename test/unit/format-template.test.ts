// Tests of the Go text/template engine behind `--format`.
//
// The tables marked "from Go" hold outputs and error messages produced by Go 1.19's
// text/template with docker's template functions (docker/cli templates/templates.go), run
// on Go values shaped like the JavaScript data below. The data's Symbol.toStringTag gives
// the Go type names that appear in Go's messages.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat } from '../../src/cli/format/float.ts';
import { dockerFunctions } from '../../src/cli/format/functions.ts';
import { formatValue, sprint, sprintf, sprintln } from '../../src/cli/format/printf.ts';
import {
  Template,
  TemplateExecError,
  TemplateParseError,
  executeTemplate,
  type ExecuteOptions,
  type FuncMap,
} from '../../src/cli/format/template.ts';
import { goMap } from '../../src/cli/format/value.ts';

/** A `docker image inspect` value, as docker's typed pass sees it. */
function inspectedImage() {
  return {
    [Symbol.toStringTag]: 'main.Image',
    Id: 'sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d',
    RepoTags: ['busybox:latest', 'registry.local:5000/busybox:1.36'],
    RepoDigests: ['busybox@sha256:3fbc632167424a6d997e74f52b878d7cc478225cffac6bc977eedfe51c7f4e79'],
    Created: '2023-07-18T23:19:33.655005962Z',
    Size: 4261550,
    Architecture: 'amd64',
    Os: 'linux',
    Config: {
      [Symbol.toStringTag]: '*main.Config',
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8'],
      Labels: goMap({ 'org.opencontainers.image.version': '1.36.1', 'com.example.x': 'y', maintainer: 'Jo <jo@example.com>' }, ''),
      Cmd: ['sh'],
      Entrypoint: null,
      WorkingDir: '',
      User: '',
      ExposedPorts: goMap({ '80/tcp': {}, '443/tcp': {} }),
    },
  };
}

/** The same image as decoded JSON, for docker's fallback pass where every object is a map. */
function decodedImage() {
  const { Config, ...rest } = inspectedImage();
  const { Labels, ExposedPorts, ...config } = Config;
  return { ...rest, Config: { ...config, Labels: { ...Labels }, ExposedPorts: { ...ExposedPorts } } };
}

/** A `docker ps` row: fields, and a method taking an argument. */
function containerRow() {
  const labels: Record<string, string> = { app: 'web', tier: 'front' };
  return {
    [Symbol.toStringTag]: 'main.Ctr',
    ID: '4f66ad9a0b2e',
    Image: 'nginx:1.25',
    Command: '"/docker-entrypoint.…"',
    RunningFor: '2 hours ago',
    Ports: '0.0.0.0:8080->80/tcp',
    State: 'running',
    Status: 'Up 2 hours',
    Names: 'web',
    Labels: 'app=web,tier=front',
    Label(name: string): string {
      return labels[name] ?? '';
    },
  };
}

interface Outcome {
  out: string;
  err: string;
}

/** Runs like the Go harness: parse errors carry docker's prefix, and output before an error is kept. */
function run(format: string, data: unknown, options: ExecuteOptions = {}): Outcome {
  let tmpl: Template;
  try {
    tmpl = Template.parse(format, { funcs: dockerFunctions() });
  } catch (e) {
    assert.ok(e instanceof TemplateParseError, `expected a TemplateParseError, got ${String(e)}`);
    return { out: '', err: `template parsing error: ${e.message}` };
  }
  try {
    return { out: tmpl.execute(data, options), err: '' };
  } catch (e) {
    assert.ok(e instanceof TemplateExecError, `expected a TemplateExecError, got ${String(e)}`);
    return { out: e.partial, err: e.message };
  }
}

const IMAGE_CASES: ReadonlyArray<readonly [string, string]> = [
  ["{{.Id}}", "sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d"],
  ["{{.Config.Env}}", "[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8]"],
  ["{{.RepoTags}}", "[busybox:latest registry.local:5000/busybox:1.36]"],
  ["{{range .RepoTags}}{{.}} {{end}}", "busybox:latest registry.local:5000/busybox:1.36 "],
  ["{{join .RepoTags \",\"}}", "busybox:latest,registry.local:5000/busybox:1.36"],
  ["{{json .Config.Labels}}", "{\"com.example.x\":\"y\",\"maintainer\":\"Jo <jo@example.com>\",\"org.opencontainers.image.version\":\"1.36.1\"}"],
  ["{{json .Config}}", "{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"LANG=C.UTF-8\"],\"Labels\":{\"com.example.x\":\"y\",\"maintainer\":\"Jo <jo@example.com>\",\"org.opencontainers.image.version\":\"1.36.1\"},\"Cmd\":[\"sh\"],\"Entrypoint\":null,\"WorkingDir\":\"\",\"User\":\"\",\"ExposedPorts\":{\"443/tcp\":{},\"80/tcp\":{}}}"],
  ["{{json .}}", "{\"Id\":\"sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d\",\"RepoTags\":[\"busybox:latest\",\"registry.local:5000/busybox:1.36\"],\"RepoDigests\":[\"busybox@sha256:3fbc632167424a6d997e74f52b878d7cc478225cffac6bc977eedfe51c7f4e79\"],\"Created\":\"2023-07-18T23:19:33.655005962Z\",\"Size\":4261550,\"Architecture\":\"amd64\",\"Os\":\"linux\",\"Config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"LANG=C.UTF-8\"],\"Labels\":{\"com.example.x\":\"y\",\"maintainer\":\"Jo <jo@example.com>\",\"org.opencontainers.image.version\":\"1.36.1\"},\"Cmd\":[\"sh\"],\"Entrypoint\":null,\"WorkingDir\":\"\",\"User\":\"\",\"ExposedPorts\":{\"443/tcp\":{},\"80/tcp\":{}}}}"],
  ["{{index .Config.Labels \"com.example.x\"}}", "y"],
  ["[{{index .Config.Labels \"missing\"}}]", "[]"],
  ["{{.Config.Labels.maintainer}}", "Jo <jo@example.com>"],
  ["{{.Config.Labels.missing}}", "<no value>"],
  ["{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "com.example.x=y;maintainer=Jo <jo@example.com>;org.opencontainers.image.version=1.36.1;"],
  ["{{range $i, $t := .RepoTags}}{{if $i}}, {{end}}{{$t}}{{end}}", "busybox:latest, registry.local:5000/busybox:1.36"],
  ["{{len .RepoTags}} {{len .Config.Labels}} {{len .Id}}", "2 3 71"],
  ["{{.Size}}", "4261550"],
  ["{{printf \"%d bytes\" .Size}}", "4261550 bytes"],
  ["{{.Architecture}}/{{.Os}}", "amd64/linux"],
  ["{{lower .Os | upper}}", "LINUX"],
  ["{{upper .Architecture}}", "AMD64"],
  ["{{title \"hello wOrld foo-bar_baz x.y\"}}", "Hello WOrld Foo-Bar_baz X.Y"],
  ["{{split (index .RepoTags 0) \":\"}}", "[busybox latest]"],
  ["{{index (split (index .RepoTags 1) \":\") 1}}", "5000/busybox"],
  ["{{truncate .Id 19}}", "sha256:9c7a54a9a43c"],
  ["[{{pad .Os 2 3}}][{{pad .Config.User 2 3}}]", "[  linux   ][]"],
  ["{{json .RepoTags}}", "[\"busybox:latest\",\"registry.local:5000/busybox:1.36\"]"],
  ["{{json .Size}}", "4261550"],
  ["{{.Config.ExposedPorts}}", "map[443/tcp:{} 80/tcp:{}]"],
  ["{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}", "443/tcp 80/tcp "],
  ["{{with .Config.User}}{{.}}{{else}}root{{end}}", "root"],
  ["{{with .Config}}{{.WorkingDir}}|{{$.Os}}{{end}}", "|linux"],
  ["{{if .Config.Entrypoint}}ep{{else}}no-ep{{end}}", "no-ep"],
  ["{{eq .Os \"linux\"}}", "true"],
  ["{{if eq .Os \"windows\" \"linux\"}}known{{end}}", "known"],
  ["{{if and .RepoTags (gt (len .RepoTags) 1)}}multi{{end}}", "multi"],
  ["{{if or (eq .Architecture \"arm64\") (eq .Architecture \"amd64\")}}64-bit{{end}}", "64-bit"],
  ["{{- range .Config.Env}}\n  {{.}}{{end -}}\n\n", "\n  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n  LANG=C.UTF-8"],
  ["{{printf \"%-20s|%5s|%q\" .Os .Architecture .Id}}", "linux               |amd64|\"sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d\""],
  ["{{printf \"%v %s %x\" .RepoTags .Os .Os}}", "[busybox:latest registry.local:5000/busybox:1.36] linux 6c696e7578"],
  ["{{$tag := index .RepoTags 0}}{{$tag}}", "busybox:latest"],
  ["{{$n := len .RepoTags}}{{$n = 5}}{{$n}}", "5"],
  ["{{slice .Id 7 19}}", "9c7a54a9a43c"],
  ["{{index .RepoDigests 0 | printf \"%.20s\"}}", "busybox@sha256:3fbc6"],
  ["{{.Config.Cmd}} {{json .Config.Cmd}}", "[sh] [\"sh\"]"],
  ["{{println .Os .Architecture}}", "linux amd64\n"],
  ["{{print .Os .Size .Architecture}}", "linux4261550amd64"],
  ["{{not .Config.Entrypoint}}", "true"],
  ["{{ne .Size 0}} {{lt .Size 5000000}} {{ge .Size 4261550}} {{gt .Os \"darwin\"}}", "true true true true"],
  ["{{template \"x\" .}}{{define \"x\"}}<{{.Os}}>{{end}}", "<linux>"],
  ["{{json .Config.Labels | printf \"%s\"}}", "{\"com.example.x\":\"y\",\"maintainer\":\"Jo <jo@example.com>\",\"org.opencontainers.image.version\":\"1.36.1\"}"],
  ["{{printf \"%s\" .Config.Labels}}", "map[com.example.x:y maintainer:Jo <jo@example.com> org.opencontainers.image.version:1.36.1]"],
  ["{{printf \"%q\" .RepoTags}}", "[\"busybox:latest\" \"registry.local:5000/busybox:1.36\"]"],
  ["{{printf \"%5.2f%%\" 12.345}}", "12.35%"],
  ["{{printf \"%5.1f|%-7.2f|%07.2f|%+d|% d|%.3d|%6.3d|%-6d|%06d|%.0d|\" 2.25 2.345 -2.5 0 7 7 7 7 -7 0}}", "  2.2|2.35   |-002.50|+0| 7|007|   007|7     |-00007||"],
  ["{{printf \"%x|%X|% X|%#x|%+q|%#q|%-8q|%08.3f|%+.2e|%x|%o|%O|%#o\" \"héllo\" -255 \"ab\" \"ab\" \"é\\n\" \"a`b\" \"a\" -3.14159 12345.678 -1 64 64 0}}", "68c3a96c6c6f|-FF|61 62|0x6162|\"\\u00e9\\n\"|\"a`b\"|\"a\"     |-003.142|+1.23e+04|-1|100|0o100|0"],
  ["{{printf \"%.3g|%.10g|%g|%.0e|%e|%.2g|%G\" 1234.5678 0.333333333333 1e-7 15.5 0.0 0.000012345 1e100}}", "1.23e+03|0.3333333333|1e-07|2e+01|0.000000e+00|1.2e-05|1E+100"],
  ["{{printf \"%c|%q|%U|%#U|%5c|%t\" 19990 128512 65 19990 120 true}}", "世|'😀'|U+0041|U+4E16 '世'|    x|true"],
  ["{{printf \"%d|%s|%d %d|\" \"str\" 5 1}}", "%!d(string=str)|%!s(int=5)|1 %!d(MISSING)|"],
  ["{{printf \"%d\" 1 2}}", "1%!(EXTRA int=2)"],
  ["{{printf \"%!|%z|%v\" 3 nil}}", "%!!(int=3)|%!z(<nil>)|%!v(MISSING)"],
  ["{{printf \"%T|%T|%T|%T\" \"s\" 1 1.5 .RepoTags}}", "string|int|float64|[]string"],
  ["{{printf \"%v|%d|%s|%5s|%-5v|\" .RepoTags .Size .RepoTags .RepoTags .Size}}", "[busybox:latest registry.local:5000/busybox:1.36]|4261550|[busybox:latest registry.local:5000/busybox:1.36]|[busybox:latest registry.local:5000/busybox:1.36]|4261550|"],
  ["{{printf \"%6.2f|%-8.3s|%.0f|%.1f|%.1f\" 3.14159 \"abcdef\" 2.5 0.05 0.25}}", "  3.14|abc     |2|0.1|0.2"],
  ["{{printf \"%08.3f|%-8.2f|%+.1f|%x|%X|%o|%b\" 3.14159 2.5 2.25 255 255 8 5}}", "0003.142|2.50    |+2.2|ff|FF|10|101"],
  ["{{printf \"%v|%v|%v|%v\" 0.1 123456.7 1234567.5 0.00001}}", "0.1|123456.7|1.2345675e+06|1e-05"],
  ["{{html .Config.Labels.maintainer}}|{{js .Config.Labels.maintainer}}|{{urlquery .Config.Labels.maintainer}}", "Jo &lt;jo@example.com&gt;|Jo \\u003Cjo@example.com\\u003E|Jo+%3Cjo%40example.com%3E"],
  ["{{range $i, $e := .Config.Env}}{{if eq $i 1}}{{break}}{{end}}{{$e}}{{end}}", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  ["{{range .RepoTags}}{{if eq . \"busybox:latest\"}}{{continue}}{{end}}[{{.}}]{{end}}", "[registry.local:5000/busybox:1.36]"],
  ["{{range .Config.Entrypoint}}x{{else}}empty{{end}}", "empty"],
  ["{{with $c := .Config}}{{$c.Cmd}}{{end}}", "[sh]"],
  ["{{(index .RepoTags 0) | len}}", "14"],
  ["{{.Config.Labels | len}}", "3"],
  ["{{if .Config.Labels}}has{{end}}", "has"],
  ["{{$x := \"a\"}}{{if true}}{{$x := \"b\"}}{{$x}}{{end}}{{$x}}", "ba"],
  ["a {{- /* comment */}} b {{/* c */ -}} c", "a b c"],
  ["{{\"quoted\\t\\\"x\\\"\"}}|{{`raw\\t`}}|{{'x'}}|{{0x1F}}|{{1_000_000}}|{{-7}}|{{3.5}}", "quoted\t\"x\"|raw\\t|120|31|1000000|-7|3.5"],
  ["{{index .Config.Labels \"com.example.x\" | printf \"%s!\" }}", "y!"],
  ["{{.Config.Labels.missing | printf \"%s\"}}", "%!s(<nil>)"],
  ["{{printf \"%v\" .Config.Labels.missing}}", "<nil>"],
  ["{{eq .Config.Labels.missing nil}}", "true"],
];

const IMAGE_ERRORS: ReadonlyArray<readonly [string, string]> = [
  ["{{.Foo}}", "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type main.Image"],
  ["{{.Config.Foo}}", "template: :1:9: executing \"\" at <.Config.Foo>: can't evaluate field Foo in type *main.Config"],
  ["{{join .Config.Labels \",\"}}", "template: :1:14: executing \"\" at <.Config.Labels>: wrong type for value; expected []string; got map[string]string"],
  ["{{index .RepoTags 5}}", "template: :1:2: executing \"\" at <index .RepoTags 5>: error calling index: index out of range: 5"],
  ["{{.RepoTags.Foo}}", "template: :1:11: executing \"\" at <.RepoTags.Foo>: can't evaluate field Foo in type []string"],
  ["{{upper}}", "template: :1:2: executing \"\" at <upper>: wrong number of args for upper: want 1 got 0"],
  ["{{upper .Os .Os}}", "template: :1:2: executing \"\" at <upper>: wrong number of args for upper: want 1 got 2"],
];

const CTR_CASES: ReadonlyArray<readonly [string, string, string?]> = [
  ["{{.ID}}\t{{.Names}}", "4f66ad9a0b2e\tweb"],
  ["{{.Label \"app\"}}", "web"],
  ["[{{.Label \"missing\"}}]", "[]"],
  ["{{.Labels}}", "app=web,tier=front"],
  ["{{if eq .State \"running\"}}up{{else}}down{{end}}", "up"],
  ["{{.Names}}: {{.Status}}", "web: Up 2 hours"],
  ["{{printf \"%-20s|\" .Names}}", "web                 |"],
  ["{{.Label}}", "", "template: :1:2: executing \"\" at <.Label>: wrong number of args for Label: want 1 got 0"],
  ["{{.Names \"x\"}}", "", "template: :1:2: executing \"\" at <.Names>: Names has arguments but cannot be invoked as function"],
  ["{{.Command}}", "\"/docker-entrypoint.…\""],
  ["{{json .Command}}", "\"\\\"/docker-entrypoint.…\\\"\""],
  ["{{.Label \"app\" | upper}}", "WEB"],
  ["{{range split .Labels \",\"}}<{{.}}>{{end}}", "<app=web><tier=front>"],
  ["{{.Nope}}", "", "template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type main.Ctr"],
  ["{{.Names | printf \"%s-%s\" .ID}}", "4f66ad9a0b2e-web"],
];

const RAW_CASES: ReadonlyArray<readonly [string, string, string?]> = [
  ["{{.Id}}", "sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d"],
  ["{{.Foo}}", "", "template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\""],
  ["{{.Config.Labels.missing}}", "", "template: :1:9: executing \"\" at <.Config.Labels.missing>: map has no entry for key \"missing\""],
  ["{{.Config.Labels.maintainer}}", "Jo <jo@example.com>"],
  ["{{.Size}}", "4261550"],
  ["{{.Config}}", "map[Cmd:[sh] Entrypoint:<nil> Env:[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8] ExposedPorts:map[443/tcp:map[] 80/tcp:map[]] Labels:map[com.example.x:y maintainer:Jo <jo@example.com> org.opencontainers.image.version:1.36.1] User: WorkingDir:]"],
  ["{{index .Config.Labels \"missing\"}}", "<no value>"],
  ["{{json .Config}}", "{\"Cmd\":[\"sh\"],\"Entrypoint\":null,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"LANG=C.UTF-8\"],\"ExposedPorts\":{\"443/tcp\":{},\"80/tcp\":{}},\"Labels\":{\"com.example.x\":\"y\",\"maintainer\":\"Jo <jo@example.com>\",\"org.opencontainers.image.version\":\"1.36.1\"},\"User\":\"\",\"WorkingDir\":\"\"}"],
  ["{{range $k, $v := .Config}}{{$k}} {{end}}", "Cmd Entrypoint Env ExposedPorts Labels User WorkingDir "],
  ["{{.Config.Entrypoint}}", "<no value>"],
  ["{{.Config.Entrypoint.X}}", "", "template: :1:9: executing \"\" at <.Config.Entrypoint.X>: nil pointer evaluating interface {}.X"],
  ["{{.RepoTags}}", "[busybox:latest registry.local:5000/busybox:1.36]"],
  ["{{.Nope.X}}", "", "template: :1:7: executing \"\" at <.Nope.X>: map has no entry for key \"Nope\""],
];

const MISC_CASES: ReadonlyArray<readonly [string, string, string?]> = [
  ["{{ /* c */ }}", "", "template parsing error: template: :1: unexpected \"/\" in command"],
  ["{{.Foo", "", "template parsing error: template: :1: unclosed action"],
  ["{{.Foo}", "", "template parsing error: template: :1: bad character U+007D '}'"],
  ["{{.Foo }", "", "template parsing error: template: :1: unexpected \"}\" in operand"],
  ["{{if}}", "", "template parsing error: template: :1: missing value for if"],
  ["{{if .Os}}", "", "template parsing error: template: :1: unexpected EOF"],
  ["{{end}}", "", "template parsing error: template: :1: unexpected {{end}}"],
  ["{{else}}", "", "template parsing error: template: :1: unexpected {{else}}"],
  ["{{nope 1}}", "", "template parsing error: template: :1: function \"nope\" not defined"],
  ["{{$x}}", "", "template parsing error: template: :1: undefined variable \"$x\""],
  ["{{\"abc}}", "", "template parsing error: template: :1: unterminated quoted string"],
  ["{{. | 1}}", "", "template parsing error: template: :1: non executable command in pipeline stage 2"],
  ["{{(1}}", "", "template parsing error: template: :1: unclosed left paren"],
  ["{{1)}}", "", "template parsing error: template: :1: unexpected \")\" in command"],
  ["{{#}}", "", "template parsing error: template: :1: unexpected \"#\" in command"],
  ["{{break}}", "", "template parsing error: template: :1: {{break}} outside {{range}}"],
  ["{{range .RepoTags}}{{break 1}}{{end}}", "", "template parsing error: template: :1: unexpected \"1\" in {{break}}"],
  ["{{range $i, $v, $w := .RepoTags}}{{end}}", "", "template parsing error: template: :1: too many declarations in range"],
  ["{{with $x := 1}}{{$x}}{{end}}{{$x}}", "", "template parsing error: template: :1: undefined variable \"$x\""],
  ["{{.x}}{{else}}", "", "template parsing error: template: :1: unexpected {{else}}"],
  ["{{if .Os}}a{{else}}b{{else}}c{{end}}", "", "template parsing error: template: :1: expected end; found {{else}}"],
  ["{{range .RepoTags}}{{else if .}}{{end}}", "", "template parsing error: template: :1: unexpected <if> in input"],
  ["{{template}}", "", "template parsing error: template: :1: unexpected \"}}\" in template clause"],
  ["{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}", "", "template parsing error: template: :1: template: multiple definition of template \"a\""],
  ["{{\"\\z\"}}", "", "template parsing error: template: :1: invalid syntax"],
  ["{{'ab'}}", "", "template parsing error: template: :1: malformed character constant: 'ab'"],
  ["{{1x}}", "", "template parsing error: template: :1: bad number syntax: \"1x\""],
  ["{{08}}", "", "template parsing error: template: :1: integer overflow: \"08\""],
  ["{{99999999999999999999}}", "", "template parsing error: template: :1: integer overflow: \"99999999999999999999\""],
  ["{{3-}}", "", "template parsing error: template: :1: bad number syntax: \"3-\""],
  ["x\n{{if}}", "", "template parsing error: template: :2: missing value for if"],
  ["x\n{{.Foo\n", "", "template parsing error: template: :3: unclosed action started at :2"],
  ["x\n{{\"a\n\"}}", "", "template parsing error: template: :2: unterminated quoted string"],
  ["{{1}}{{\n}}", "", "template parsing error: template: :2: missing value for command"],
  ["{{/* unclosed", "", "template parsing error: template: :1: unclosed comment"],
  ["{{/* x */ y}}", "", "template parsing error: template: :1: comment ends before closing delimiter"],
  ["{{.Os | 3}}", "", "template parsing error: template: :1: non executable command in pipeline stage 2"],
  ["{{$x := 1}}{{$x := 2}}{{$x}}", "2"],
  ["{{1 2}}", "", "template: :1:2: executing \"\" at <1>: can't give argument to non-function 1"],
  ["{{nil}}", "", "template: :1:2: executing \"\" at <nil>: nil is not a command"],
  ["{{.Os.Foo}}", "", "template: :1:5: executing \"\" at <.Os.Foo>: can't evaluate field Foo in type string"],
  ["{{.Os 1}}", "", "template: :1:2: executing \"\" at <.Os>: Os has arguments but cannot be invoked as function"],
  ["{{template \"y\"}}", "", "template: :1:11: executing \"\" at <{{template \"y\"}}>: template \"y\" not defined"],
  ["{{index . 1}}", "", "template: :1:2: executing \"\" at <index . 1>: error calling index: can't index item of type main.Image"],
  ["{{len nil}}", "", "template: :1:2: executing \"\" at <len nil>: error calling len: reflect: call of reflect.Value.Type on zero Value"],
  ["{{.Foo | .Os}}", "", "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type main.Image"],
  ["{{9223372036854775808}}", "", "template: :1:2: executing \"\" at <9223372036854775808>: 9223372036854775808 overflows int"],
  ["{{printf \"%d\" .Size | printf \"%s-%s\" \"x\"}}", "x-4261550"],
  ["{{(print 1).x}}", "", "template: :1:9: executing \"\" at <1>: can't evaluate field x in type string"],
  ["{{.Config.Labels.a.b}}", "<no value>"],
  ["{{eq .RepoTags .RepoTags}}", "", "template: :1:2: executing \"\" at <eq .RepoTags .RepoTags>: error calling eq: non-comparable type [busybox:latest registry.local:5000/busybox:1.36]: []string"],
  ["{{lt .Os 3}}", "", "template: :1:2: executing \"\" at <lt .Os 3>: error calling lt: incompatible types for comparison"],
  ["{{lt .RepoTags 3}}", "", "template: :1:2: executing \"\" at <lt .RepoTags 3>: error calling lt: invalid type for comparison"],
  ["{{eq}}", "", "template: :1:2: executing \"\" at <eq>: wrong number of args for eq: want at least 1 got 0"],
  ["{{slice .Os 3 1}}", "", "template: :1:2: executing \"\" at <slice .Os 3 1>: error calling slice: invalid slice index: 3 > 1"],
  ["{{slice .Os 1 2 3}}", "", "template: :1:2: executing \"\" at <slice .Os 1 2 3>: error calling slice: cannot 3-index slice a string"],
  ["{{index .Config.Labels}}", "map[com.example.x:y maintainer:Jo <jo@example.com> org.opencontainers.image.version:1.36.1]"],
  ["{{and}}", "", "template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0"],
  ["{{html .Nope}}", "", "template: :1:7: executing \"\" at <.Nope>: can't evaluate field Nope in type main.Image"],
  ["{{json .Nope}}", "", "template: :1:7: executing \"\" at <.Nope>: can't evaluate field Nope in type main.Image"],
  ["{{range .Os}}{{end}}", "", "template: :1:8: executing \"\" at <.Os>: range can't iterate over linux"],
  ["{{with .Config}}{{.Nope}}{{end}}", "", "template: :1:18: executing \"\" at <.Nope>: can't evaluate field Nope in type *main.Config"],
  ["{{0x1p-2}}|{{0x1P4}}|{{1e3}}|{{.1e1}}|{{1_0.5}}|{{0o17}}|{{017}}|{{0b101}}|{{1.0}}|{{+3}}|{{-0}}", "0.25|16|1000|1|10.5|15|15|5|1|3|0"],
  ["{{and 1 0 2}}|{{or 0 \"\" 3}}|{{and 1 2}}|{{or 0 \"\"}}|{{not 0}}|{{not .Os}}", "0|3|2||true|false"],
  ["{{print 1 2 \"a\" \"b\" 3 nil}}|{{println 1 \"a\"}}|{{print}}|", "1 2ab3 <nil>|1 a\n||"],
  ["{{-3}}|{{- 3}}|{{3 -}}|", "-3|3|3|"],
  ["a\n{{- \"b\" -}}\n\tc {{- 3 }} d{{/* x */ -}}   e", "abc3 de"],
  ["{{block \"b\" .Os}}B{{.}}{{end}}|{{template \"b\" \"z\"}}", "Blinux|Bz"],
  ["{{range $k, $v := .Config.ExposedPorts}}{{$k}}={{$v}};{{end}}", "443/tcp={};80/tcp={};"],
  ["{{$x := 1}}{{range .RepoTags}}{{$x = .}}{{end}}{{$x}}", "registry.local:5000/busybox:1.36"],
  ["{{range $i, $e := .RepoTags}}{{$i}}:{{$e}} {{end}}", "0:busybox:latest 1:registry.local:5000/busybox:1.36 "],
  ["{{if not .Config.Entrypoint}}a{{else if .Os}}b{{else}}c{{end}}", "a"],
  ["{{with .Config.WorkingDir}}w{{else}}{{$.Os}}{{end}}", "linux"],
];

describe('formats docker users write, on an inspected image (from Go)', () => {
  for (const [format, want] of IMAGE_CASES) {
    test(format, () => {
      assert.deepEqual(run(format, inspectedImage()), { out: want, err: '' });
    });
  }
});

describe('errors on an inspected image (from Go)', () => {
  for (const [format, want] of IMAGE_ERRORS) {
    test(format, () => {
      assert.deepEqual(run(format, inspectedImage()), { out: '', err: want });
    });
  }
});

describe('container rows with methods (from Go)', () => {
  for (const [format, out, err = ''] of CTR_CASES) {
    test(format, () => {
      assert.deepEqual(run(format, containerRow()), { out, err });
    });
  }
});

describe("docker's fallback pass: objects as maps, missingkey=error (from Go)", () => {
  for (const [format, out, err = ''] of RAW_CASES) {
    test(format, () => {
      assert.deepEqual(run(format, decodedImage(), { objectsAreMaps: true, missingKey: 'error' }), { out, err });
    });
  }
});

describe('parsing, control flow and execution errors (from Go)', () => {
  for (const [format, out, err = ''] of MISC_CASES) {
    test(JSON.stringify(format), () => {
      assert.deepEqual(run(format, inspectedImage()), { out, err });
    });
  }
});

describe('where JavaScript values differ from Go values', () => {
  test('an integer is int, so a wrong type names int where Go would say int64', () => {
    assert.equal(
      run('{{truncate .Size 3}}', inspectedImage()).err,
      'template: :1:11: executing "" at <.Size>: wrong type for value; expected string; got int',
    );
  });

  test('float verbs accept integral numbers, which JavaScript cannot tell from floats', () => {
    assert.equal(sprintf('%.2f|%e|%g', [2, 3, 4]), '2.00|3.000000e+00|4');
  });

  test('an integral number beyond int64 is a float', () => {
    assert.equal(formatValue(1e21), '1e+21');
    assert.equal(formatValue(1.5e100), '1.5e+100');
    assert.equal(formatValue(2 ** 62), '4611686018427387904');
  });

  test('bigint is an int of any size', () => {
    assert.equal(executeTemplate('{{.}} {{printf "%x" .}}', 2n ** 70n), '1180591620717411303424 400000000000000000');
  });

  test('undefined is a missing value and null is nil', () => {
    assert.equal(executeTemplate('{{.A}}|{{.B}}|{{print .A .B}}|{{printf "%v %s" .A .B}}', { A: undefined, B: null }), '<no value>|<nil>|<nil> <nil>|<nil> %!s(<nil>)');
  });

  test('in the map pass, a null from JSON prints as a missing value, as Go prints a nil interface', () => {
    assert.equal(executeTemplate('{{.A}}|{{.}}', { A: null }, { objectsAreMaps: true }), '<no value>|map[A:<nil>]');
  });

  test('a struct prints its fields in order, without its methods', () => {
    assert.equal(executeTemplate('{{.}}|{{printf "%+v" .}}', containerRow()).split('|')[0], '{4f66ad9a0b2e nginx:1.25 "/docker-entrypoint.…" 2 hours ago 0.0.0.0:8080->80/tcp running Up 2 hours web app=web,tier=front}');
    assert.equal(sprintf('%+v', [{ A: 1, B: ['x'] }]), '{A:1 B:[x]}');
  });

  test('a Map is a Go map: keys sorted as Go sorts them, numbers numerically', () => {
    const m = new Map<unknown, string>([[10, 'a'], [2, 'b'], [-1, 'c']]);
    assert.equal(executeTemplate('{{.}}|{{range $k, $v := .}}{{$k}}{{$v}} {{end}}|{{index . 2}}|{{len .}}', m), 'map[-1:c 2:b 10:a]|-1c 2b 10a |b|3');
  });

  test('string keys sort by UTF-8 bytes, not UTF-16 units', () => {
    // In UTF-16 U+1F600 (a surrogate pair, 0xD83D...) sorts before U+FF5E; in UTF-8 (F0... > EF...) after it.
    const m = goMap({ '\u{1F600}': 1, '\uFF5E': 2, b: 3 });
    assert.equal(executeTemplate('{{range $k, $v := .}}{{$v}}{{end}}', m), '321');
  });

  test('a Date prints as Go prints a time.Time', () => {
    assert.equal(formatValue(new Date('2024-03-05T06:07:08.120Z')), '2024-03-05 06:07:08.12 +0000 UTC');
  });

  test('class instances: getters are fields, methods take arguments, the class names the type', () => {
    class Row {
      readonly #size = 2048;
      get Size(): string {
        return `${this.#size / 1024}kB`;
      }
      Label(key: string, fallback: string): string {
        return key === 'app' ? 'web' : fallback;
      }
    }
    const row = new Row();
    assert.equal(executeTemplate('{{.Size}} {{.Label "app" "-"}} {{.Label "x" "-"}}', row), '2kB web -');
    assert.equal(run('{{.Nope}}', row).err, 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type Row');
    assert.equal(run('{{.constructor}}', row).err, 'template: :1:2: executing "" at <.constructor>: can\'t evaluate field constructor in type Row');
    assert.equal(run('{{.toString}}', {}).err, 'template: :1:2: executing "" at <.toString>: can\'t evaluate field toString in type struct');
    assert.equal(run('{{.Label "x"}}', row).err, 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 2 got 1');
  });

  test('a method that throws fails the template with Go\'s "error calling"', () => {
    const row = {
      Broken(): string {
        throw new Error('disk on fire');
      },
    };
    assert.equal(run('{{.Broken}}', row).err, 'template: :1:2: executing "" at <.Broken>: error calling Broken: disk on fire');
  });
});

describe('maps and missing keys', () => {
  test('a plain object is a struct: a missing field is an error', () => {
    assert.equal(run('{{.Labels.x}}', { Labels: {} }).err, 'template: :1:9: executing "" at <.Labels.x>: can\'t evaluate field x in type struct');
  });

  test('goMap makes a plain object a map: a missing key prints <no value>, and index gives the zero value', () => {
    assert.equal(executeTemplate('{{.Labels.x}}|{{index .Labels "x"}}|{{index .Any "x"}}', { Labels: goMap({}, ''), Any: goMap({}) }), '<no value>||<no value>');
  });

  test('missingkey=zero gives the declared zero value', () => {
    assert.equal(executeTemplate('[{{.x}}]', goMap({}, ''), { missingKey: 'zero' }), '[]');
    assert.equal(executeTemplate('[{{.x}}]', goMap({}, 0), { missingKey: 'zero' }), '[0]');
  });

  test('missingkey=error on a missing value in a chain', () => {
    assert.equal(run('{{.a.b}}', goMap({}), { missingKey: 'error' }).err, 'template: :1:4: executing "" at <.a.b>: map has no entry for key "a"');
    assert.equal(run('{{$.a.b}}', undefined, { missingKey: 'error' }).err, 'template: :1:3: executing "" at <$.a.b>: nil data; no entry for key "a"');
  });

  test('a map field with arguments is an error', () => {
    assert.equal(run('{{.a 1}}', goMap({ a: 1 })).err, 'template: :1:2: executing "" at <.a>: a is not a method but has arguments');
  });
});

describe('newer Go features docker has (Go 1.22 and 1.23)', () => {
  test('range over an integer', () => {
    assert.equal(executeTemplate('{{range 3}}{{.}}{{end}}|{{range $i := 2}}<{{$i}}>{{end}}|{{range 0}}x{{else}}none{{end}}', null), '012|<0><1>|none');
    assert.equal(run('{{range $i, $v := 3}}{{end}}', null).err, 'template: :1:18: executing "" at <3>: can\'t use 3 to iterate over more than one variable');
  });

  test('else with', () => {
    const t = '{{with .A}}a={{.}}{{else with .B}}b={{.}}{{else}}none{{end}}';
    assert.equal(executeTemplate(t, { A: 'x', B: 'y' }), 'a=x');
    assert.equal(executeTemplate(t, { A: '', B: 'y' }), 'b=y');
    assert.equal(executeTemplate(t, { A: '', B: '' }), 'none');
  });

  test('and and or stop at the deciding argument, so later ones are not evaluated', () => {
    assert.equal(executeTemplate('{{if and .Config (index .Config.Labels "x")}}yes{{else}}no{{end}}', { Config: null }), 'no');
    assert.equal(executeTemplate('{{or .Name "unnamed"}}|{{or "" .Missing.Deep}}', goMap({ Name: '' })), 'unnamed|<no value>');
  });

  test('break and continue', () => {
    assert.equal(executeTemplate('{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}', [1, 2, 3, 4, 5]), '13');
  });

  test('a function named break is called, not the keyword', () => {
    const funcs: FuncMap = { break: { params: [], fn: () => 'called' } };
    assert.equal(executeTemplate('{{break}}', null, { funcs }), 'called');
  });
});

describe('positions in error messages', () => {
  test('the column is a byte offset, as in Go', () => {
    assert.equal(run('é{{.Foo}}', {}).err, 'template: :1:4: executing "" at <.Foo>: can\'t evaluate field Foo in type struct');
    assert.equal(run('line one\n  {{.Foo}}', {}).err, 'template: :2:4: executing "" at <.Foo>: can\'t evaluate field Foo in type struct');
  });

  test('a multi-part field is placed at its second part, as Go does', () => {
    assert.equal(run('{{.A.B}}', { A: {} }).err, 'template: :1:4: executing "" at <.A.B>: can\'t evaluate field B in type struct');
  });

  test('a named template names itself in errors', () => {
    const t = Template.parse('{{define "row"}}{{.Nope}}{{end}}{{template "row" .}}', { name: 'images' });
    assert.throws(() => t.execute({}), {
      name: 'TemplateExecError',
      message: 'template: images:1:18: executing "row" at <.Nope>: can\'t evaluate field Nope in type struct',
    });
  });
});

describe('functions', () => {
  test('custom functions are checked at parse time and typed at run time', () => {
    const funcs: FuncMap = {
      repeat: { params: ['string', 'int'], fn: (s: string, n: number) => s.repeat(n) },
      fail: { params: [], fn: () => { throw new Error('no'); } },
    };
    assert.equal(executeTemplate('{{repeat "ab" 3}}', null, { funcs }), 'ababab');
    assert.throws(() => Template.parse('{{repeat "a" 1}}'), { message: 'template: :1: function "repeat" not defined' });
    const t = Template.parse('{{repeat "a" "b"}}', { funcs });
    assert.throws(() => t.execute(null), { message: 'template: :1:13: executing "" at <"b">: expected integer; found "b"' });
    assert.throws(() => Template.parse('{{fail}}', { funcs }).execute(null), { message: 'template: :1:2: executing "" at <fail>: error calling fail: no' });
  });

  test('a function piped into gets the value as its last argument, typed', () => {
    const funcs: FuncMap = { repeat: { params: ['string', 'int'], fn: (s: string, n: number) => s.repeat(n) } };
    assert.equal(executeTemplate('{{2 | repeat "ab"}}', null, { funcs }), 'abab');
    // Go reports the piped value's type error at the last node it evaluated.
    assert.throws(() => executeTemplate('{{"2" | repeat "ab"}}', null, { funcs }), {
      message: 'template: :1:15: executing "" at <"ab">: wrong type for value; expected int; got string',
    });
  });

  test('execution can swap functions, as docker does for table headers', () => {
    const t = Template.parse('{{upper .}}', { funcs: dockerFunctions() });
    assert.equal(t.execute('id'), 'ID');
    assert.equal(t.execute('id', { funcs: { upper: { params: ['string'], fn: (s: string) => `<${s}>` } } }), '<id>');
  });

  test('docker functions on text that is not ASCII', () => {
    const out = executeTemplate('{{upper "ßéǆx"}}|{{lower "ÀΣİX"}}|{{title "ǆemo héllo 1st o\'neil"}}|{{split "a·b" ""}}', null, { funcs: dockerFunctions() });
    assert.equal(out, "ßÉǄX|àσix|ǅemo Héllo 1st O'Neil|[a · b]");
  });

  test('truncate and len count bytes, as docker does', () => {
    assert.equal(executeTemplate('{{truncate "héllo" 3}}|{{len "héllo"}}|{{truncate "ab" 5}}', null, { funcs: dockerFunctions() }), 'hé|6|ab');
    assert.throws(() => executeTemplate('{{truncate "ab" -1}}', null, { funcs: dockerFunctions() }), {
      message: 'template: :1:2: executing "" at <truncate "ab" -1>: error calling truncate: runtime error: slice bounds out of range [:-1]',
    });
  });

  test('json does not escape HTML and gives "" for what Go cannot encode', () => {
    assert.equal(executeTemplate('{{json .}}', { a: '<b>&', n: 1.5, z: null }, { funcs: dockerFunctions() }), '{"a":"<b>&","n":1.5,"z":null}');
    assert.equal(executeTemplate('[{{json .}}]', Number.NaN, { funcs: dockerFunctions() }), '[]');
  });
});

describe('hostile templates are bounded', () => {
  test('endless recursion stops at the depth limit', () => {
    assert.throws(() => executeTemplate('{{define "a"}}{{template "a"}}{{end}}{{template "a"}}', null, { limits: { depth: 50 } }), {
      name: 'TemplateExecError',
      message: 'template: :1:25: executing "a" at <{{template "a"}}>: exceeded maximum template depth (50)',
    });
  });

  test('endless loops stop at the step limit', () => {
    assert.throws(() => executeTemplate('{{range 1000000000}}{{end}}', null, { limits: { steps: 1000 } }), {
      message: /execution exceeded 1000 steps/,
    });
  });

  test('output stops at the size limit, keeping what was written', () => {
    try {
      executeTemplate('{{range 100}}0123456789{{end}}', null, { limits: { outputChars: 95 } });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof TemplateExecError);
      assert.match(e.message, /output exceeds 95 characters$/);
      assert.equal(e.partial, '0123456789'.repeat(9));
    }
  });

  test('deep nesting is a parse error, not a crash', () => {
    const deep = `{{${'('.repeat(5000)}1${')'.repeat(5000)}}}`;
    assert.throws(() => Template.parse(deep), { name: 'TemplateParseError', message: 'template: :1: max expression depth exceeded' });
  });

  test('a parse error carries the line', () => {
    try {
      Template.parse('a\nb\n{{if}}');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof TemplateParseError);
      assert.equal(e.line, 3);
    }
  });
});

describe('template sets', () => {
  test('define, template and block; executeTemplate runs one by name', () => {
    const t = Template.parse('{{define "tag"}}[{{.}}]{{end}}{{range .}}{{template "tag" .}}{{end}}{{block "tail" .}}!{{len .}}{{end}}');
    assert.deepEqual(t.templateNames.sort(), ['', 'tag', 'tail']);
    assert.equal(t.execute(['a', 'b']), '[a][b]!2');
    assert.equal(t.executeTemplate('tag', 'x'), '[x]');
    assert.throws(() => t.executeTemplate('nope', 1), { message: 'template: no template "nope" associated with template ""' });
  });

  test('variables are scoped to their control structure', () => {
    assert.equal(executeTemplate('{{$x := "out"}}{{with $y := "in"}}{{$x}}-{{$y}}{{end}}|{{$x}}', null), 'out-in|out');
    assert.throws(() => Template.parse('{{with $y := 1}}{{end}}{{$y}}'), { message: 'template: :1: undefined variable "$y"' });
  });
});

describe('fmt', () => {
  test('Sprint adds spaces only between operands that are not strings', () => {
    assert.equal(sprint(['a', 1, 2, 'b', 'c', 3.5, true, false]), 'a1 2bc3.5 true false');
    assert.equal(sprintln(['a', 1, 2, 'b']), 'a 1 2 b\n');
  });

  test('verbs, flags, widths and precision (from Go)', () => {
    assert.equal(
      sprintf('%x|%X|% X|%#x|%+q|%#q|%-8q|%08.3f|%+.2e|%x|%o|%O|%#o', ['héllo', -255, 'ab', 'ab', 'é\n', 'a`b', 'a', -3.14159, 12345.678, -1, 64, 64, 0]),
      '68c3a96c6c6f|-FF|61 62|0x6162|"\\u00e9\\n"|"a`b"|"a"     |-003.142|+1.23e+04|-1|100|0o100|0',
    );
    assert.equal(sprintf('%5.1f|%-7.2f|%07.2f|%+d|% d|%.3d|%6.3d|%-6d|%06d|%.0d|', [2.25, 2.345, -2.5, 0, 7, 7, 7, 7, -7, 0]), '  2.2|2.35   |-002.50|+0| 7|007|   007|7     |-00007||');
    assert.equal(sprintf('%c|%q|%U|%#U|%5c|%t', [19990, 128512, 65, 19990, 120, true]), '世|\'😀\'|U+0041|U+4E16 \'世\'|    x|true');
    assert.equal(sprintf('%v|%d|%s|%5s|%-5v|', [['a', 'b'], new Map([['a', 1]]), [1, 'x'], ['a', 'b'], [1]]), '[a b]|map[%!d(string=a):1]|[%!s(int=1) x]|[    a     b]|[1    ]|');
    assert.equal(sprintf('%T|%T|%T|%T|%T', ['s', 1, 1.5, ['x'], goMap({ a: 1.5 })]), 'string|int|float64|[]string|map[string]float64');
  });

  test('in-band errors (from Go)', () => {
    assert.equal(sprintf('%d|%s|%d %d|', ['str', 5, 1]), '%!d(string=str)|%!s(int=5)|1 %!d(MISSING)|');
    assert.equal(sprintf('%d', [1, 2]), '1%!(EXTRA int=2)');
    assert.equal(sprintf('%!|%z|%v', [3, null]), '%!!(int=3)|%!z(<nil>)|%!v(MISSING)');
    assert.equal(sprintf('%+c', [0.125]), '%!c(float64=+0.125)');
    assert.equal(sprintf('%[2]s %[1]s|%[5]d|%.*f|%', ['a', 'b', 2.5, 3.14159]), 'b a|%!d(BADINDEX)|%!(BADPREC)2.500000|%!(NOVERB)');
    assert.equal(sprintf('%*d|%-*d|%.*f', [5, 42, 4, 7, 2, 3.14159]), '   42|7   |3.14');
  });

  test('floats round exact halves to even, from their exact binary value (from Go)', () => {
    const cases: Array<[number, 'e' | 'f' | 'g', number, string]> = [
      [0.125, 'f', 2, '0.12'],
      [0.375, 'f', 2, '0.38'],
      [2.675, 'f', 2, '2.67'],
      [1.5, 'e', 0, '2e+00'],
      [2.5, 'e', 0, '2e+00'],
      [999.5, 'f', 0, '1000'],
      [0.0005, 'g', 1, '0.0005'],
      [99.95, 'f', 1, '100.0'],
      [1e-7, 'f', 10, '0.0000001000'],
      [123456, 'g', 3, '1.23e+05'],
      [1e21, 'g', -1, '1e+21'],
      [123456789, 'g', -1, '1.23456789e+08'],
      [5e-324, 'g', -1, '5e-324'],
      [0.1 + 0.2, 'g', -1, '0.30000000000000004'],
      [-0, 'g', -1, '-0'],
      [Number.NaN, 'g', -1, 'NaN'],
      [-Infinity, 'f', 2, '-Inf'],
    ];
    for (const [v, fmt, prec, want] of cases) assert.equal(formatFloat(v, fmt, prec), want, `${v} ${fmt} ${prec}`);
    assert.equal(sprintf('%v|%v|%v|%v|%#g|%#.3v', [0.1, 123456.7, 1234567.5, 0.00001, 1.5, 2.5]), '0.1|123456.7|1.2345675e+06|1e-05|1.50000|2.5');
  });
});
