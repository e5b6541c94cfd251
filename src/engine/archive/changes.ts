// docker's `--change` dialect (import, and later commit): Dockerfile instructions applied to an
// image config, limited to the ones that only change metadata. Words are expanded as the
// Dockerfile builder expands them (quotes, backslashes, $VAR and ${VAR:-word}), against the
// environment the earlier changes built up.
import { constants } from 'node:os';
import { posix } from 'node:path';
import type { ContainerConfig, HealthConfig } from '../../image/manifest.ts';

export class ChangeError extends Error {
  override name = 'ChangeError';
}

// moby's validCommitCommands
const ALLOWED = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** A copy of `config` with `changes` applied, in order. Throws ChangeError naming the change that is wrong. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: ContainerConfig = structuredClone(config);
  let cmdSet = false;
  for (const line of logicalLines(changes.join('\n'))) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(line)!;
    const keyword = m[1]!.toLowerCase();
    const rest = m[2]!.trim();
    if (!ALLOWED.has(keyword)) throw new ChangeError(`${keyword} is not a valid change command`);
    try {
      switch (keyword) {
        case 'cmd':
          out.Cmd = commandLine(rest, 'CMD', out.Shell);
          cmdSet = true;
          break;
        case 'entrypoint':
          out.Entrypoint = commandLine(rest, 'ENTRYPOINT', out.Shell);
          // as in a Dockerfile, an ENTRYPOINT drops an inherited CMD unless a CMD came before it
          if (!cmdSet) delete out.Cmd;
          break;
        case 'env': {
          const env = envMap(out.Env);
          const pairs = nameValues(rest, 'ENV').map(([k, v]) => [expandWord(k, env), expandWord(v, env)] as const);
          const list = [...(out.Env ?? [])];
          for (const [k, v] of pairs) {
            if (k === '') throw new ChangeError('ENV names can not be blank');
            const i = list.findIndex((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) === k);
            if (i >= 0) list[i] = `${k}=${v}`;
            else list.push(`${k}=${v}`);
          }
          out.Env = list;
          break;
        }
        case 'label': {
          const env = envMap(out.Env);
          const labels = { ...(out.Labels ?? {}) };
          for (const [k, v] of nameValues(rest, 'LABEL')) {
            const key = expandWord(k, env);
            if (key === '') throw new ChangeError('LABEL names can not be blank');
            labels[key] = expandWord(v, env);
          }
          out.Labels = labels;
          break;
        }
        case 'expose': {
          const env = envMap(out.Env);
          const words = splitWords(rest);
          if (words.length === 0) throw new ChangeError('EXPOSE requires at least one argument');
          const ports = { ...(out.ExposedPorts ?? {}) };
          for (const w of words) for (const p of portSpec(expandWord(w, env))) ports[p] = {};
          out.ExposedPorts = ports;
          break;
        }
        case 'volume': {
          const env = envMap(out.Env);
          const list = jsonArray(rest) ?? splitWords(rest);
          if (list.length === 0) throw new ChangeError('VOLUME requires at least one argument');
          const volumes = { ...(out.Volumes ?? {}) };
          for (const v of list) {
            const path = expandWord(v, env).trim();
            if (path === '') throw new ChangeError('VOLUME specified can not be an empty string');
            volumes[path] = {};
          }
          out.Volumes = volumes;
          break;
        }
        case 'workdir': {
          if (rest === '') throw new ChangeError('WORKDIR requires exactly one argument');
          const dir = expandWord(rest, envMap(out.Env));
          if (dir === '') throw new ChangeError('WORKDIR requires a non-empty path');
          out.WorkingDir = dir.startsWith('/') ? posix.normalize(dir) : posix.join('/', out.WorkingDir ?? '', dir);
          if (out.WorkingDir.length > 1 && out.WorkingDir.endsWith('/')) out.WorkingDir = out.WorkingDir.slice(0, -1);
          break;
        }
        case 'user': {
          if (rest === '') throw new ChangeError('USER requires exactly one argument');
          out.User = expandWord(rest, envMap(out.Env));
          break;
        }
        case 'stopsignal': {
          if (rest === '') throw new ChangeError('STOPSIGNAL requires exactly one argument');
          const signal = expandWord(rest, envMap(out.Env));
          checkSignal(signal);
          out.StopSignal = signal;
          break;
        }
        case 'onbuild': {
          const trigger = /^\s*(\S+)/.exec(rest)?.[1]?.toUpperCase();
          if (!trigger) throw new ChangeError('ONBUILD requires at least one argument');
          if (trigger === 'ONBUILD') throw new ChangeError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
          if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new ChangeError(`${trigger} isn't allowed as an ONBUILD trigger`);
          out.OnBuild = [...(out.OnBuild ?? []), rest];
          break;
        }
        case 'healthcheck':
          out.Healthcheck = healthcheck(rest);
          break;
      }
    } catch (err) {
      if (err instanceof ChangeError) {
        throw new ChangeError(`${JSON.stringify(line.trim())} is not a valid change command: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  return out;
}

/** Instructions one a line: backslash-newline continues a line, `#` lines are comments. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (current === '' && /^\s*(#|$)/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      current += line.replace(/\\\s*$/, '');
      continue;
    }
    current += line;
    if (current.trim() !== '') out.push(current);
    current = '';
  }
  if (current.trim() !== '') out.push(current);
  return out;
}

/** The JSON (exec) form's array, or undefined when the text is not one (then it is the shell form). */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return undefined;
  return value as string[];
}

function commandLine(rest: string, what: string, shell: string[] | undefined): string[] {
  const exec = jsonArray(rest);
  if (exec) return exec;
  if (rest === '') throw new ChangeError(`${what} requires at least one argument`);
  return [...(shell ?? DEFAULT_SHELL), rest];
}

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq < 0) m.set(e, '');
    else m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/**
 * `k=v k2="v 2"` pairs, or the legacy `k value with spaces` form; both unexpanded (quotes are
 * removed by the expansion, as the builder does).
 */
function nameValues(rest: string, what: string): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) throw new ChangeError(`${what} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(rest);
    if (!m) throw new ChangeError(`${what} must have two arguments`);
    return [[m[1]!, m[2]!.trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new ChangeError(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    if (eq === 0) throw new ChangeError(`${what} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Splits on blanks outside quotes, keeping quotes and backslashes for the expansion to remove. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === undefined && /\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && quote !== "'" && i + 1 < text.length) {
      word += c + text[++i];
      continue;
    }
    if (quote === undefined && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = undefined;
    word += c;
  }
  if (quote !== undefined) throw new ChangeError(`unmatched ${quote} in ${JSON.stringify(text)}`);
  if (inWord) words.push(word);
  return words;
}

/** One word through the builder's shell lexer: quotes removed, escapes applied, variables expanded. */
export function expandWord(word: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  const n = word.length;
  const variable = (): string => {
    // at word[i] === '$'
    const next = word[i + 1];
    if (next === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < n && depth > 0; j++) {
        if (word[j] === '\\') j++;
        else if (word[j] === '{') depth++;
        else if (word[j] === '}') depth--;
      }
      if (depth !== 0) throw new ChangeError(`missing '}' in ${JSON.stringify(word)}`);
      const body = word.slice(i + 2, j - 1);
      i = j;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/.exec(body);
      if (!m) throw new ChangeError(`bad substitution \${${body}} in ${JSON.stringify(word)}`);
      const [, name, op, arg] = m as unknown as [string, string, string | undefined, string | undefined];
      const value = env.get(name);
      const set = op?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      switch (op?.replace(':', '')) {
        case undefined:
          return value ?? '';
        case '-':
          return set ? value! : expandWord(arg ?? '', env);
        case '+':
          return set ? expandWord(arg ?? '', env) : '';
        default: {
          if (set) return value!;
          const msg = expandWord(arg ?? '', env);
          throw new ChangeError(`${name}: ${msg === '' ? 'is not allowed to be unset' : msg}`);
        }
      }
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i + 1));
    if (!m) {
      i++;
      return '$';
    }
    i += 1 + m[0].length;
    return env.get(m[0]) ?? '';
  };
  while (i < n) {
    const c = word[i]!;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new ChangeError(`unmatched ' in ${JSON.stringify(word)}`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new ChangeError(`unmatched " in ${JSON.stringify(word)}`);
        const d = word[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && '"\\$`'.includes(word[i + 1]!)) {
          out += word[i + 1];
          i += 2;
        } else if (d === '$') out += variable();
        else {
          out += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 < n) out += word[i + 1];
      i += 2;
    } else if (c === '$') out += variable();
    else {
      out += c;
      i++;
    }
  }
  return out;
}

/** docker's EXPOSE grammar: port, port/proto, start-end[/proto]; a range stands for each port in it. */
function portSpec(spec: string): string[] {
  const m = /^([0-9]+)(?:-([0-9]+))?(?:\/([A-Za-z]+))?$/.exec(spec);
  if (!m) throw new ChangeError(`invalid containerPort: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new ChangeError(`invalid proto: ${m[3]}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535) throw new ChangeError(`invalid containerPort: ${spec}`);
  if (end < start) throw new ChangeError(`invalid range specified for container port: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

const SIGNAL_NAMES = new Set(Object.keys(constants.signals).map((s) => s.replace(/^SIG/, '')));

/** docker's ParseSignal: a number, or a name with or without SIG (RTMIN+n and RTMAX-n included). */
function checkSignal(signal: string): void {
  if (/^[0-9]+$/.test(signal)) {
    const n = Number(signal);
    if (n >= 1 && n <= 64) return;
    throw new ChangeError(`Invalid signal: ${signal}`);
  }
  const name = signal.toUpperCase().replace(/^SIG/, '');
  if (SIGNAL_NAMES.has(name)) return;
  const rt = /^RTM(IN|AX)([+-])([0-9]+)$/.exec(name);
  if (rt && Number(rt[3]) <= 30 && ((rt[1] === 'IN' && rt[2] === '+') || (rt[1] === 'AX' && rt[2] === '-'))) return;
  if (name === 'RTMIN' || name === 'RTMAX') return;
  throw new ChangeError(`Invalid signal: ${signal}`);
}

/** A Go duration ("30s", "1m30s", "1.5h") in nanoseconds. */
function goDuration(text: string, flag: string): number {
  if (text === '0') return 0;
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m || m[1] === '' || m[1] === '.') throw new ChangeError(`invalid duration ${JSON.stringify(text)} for --${flag}`);
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (text === '') throw new ChangeError(`invalid duration "" for --${flag}`);
  return Math.round(total);
}

function healthcheck(rest: string): HealthConfig {
  const h: HealthConfig = {};
  let text = rest;
  const durations: Record<string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval'> = {
    interval: 'Interval',
    timeout: 'Timeout',
    'start-period': 'StartPeriod',
    'start-interval': 'StartInterval',
  };
  let flags = 0;
  for (;;) {
    const m = /^--([A-Za-z-]+)=(\S*)\s*/.exec(text);
    if (!m) break;
    text = text.slice(m[0].length);
    flags++;
    const [, name, value] = m as unknown as [string, string, string];
    const field = durations[name];
    if (field) {
      const ns = goDuration(value, name);
      if (ns !== 0 && ns < 1e6) throw new ChangeError(`Interval "${name}" cannot be less than 1ms`);
      h[field] = ns;
    } else if (name === 'retries') {
      if (!/^-?[0-9]+$/.test(value)) throw new ChangeError(`invalid --retries value ${JSON.stringify(value)}`);
      const n = Number(value);
      if (n < 0) throw new ChangeError('--retries cannot be negative');
      h.Retries = n;
    } else {
      throw new ChangeError(`Unknown flag: ${name}`);
    }
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text);
  if (!m) throw new ChangeError('HEALTHCHECK requires an argument');
  const type = m[1]!.toUpperCase();
  if (type === 'NONE') {
    if (flags > 0 || m[2]!.trim() !== '') throw new ChangeError('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw new ChangeError(`Unknown type ${JSON.stringify(m[1])} in HEALTHCHECK (try CMD)`);
  const args = m[2]!.trim();
  const exec = jsonArray(args);
  if (exec) h.Test = ['CMD', ...exec];
  else if (args === '') throw new ChangeError('Missing command after HEALTHCHECK CMD');
  else h.Test = ['CMD-SHELL', args];
  return h;
}
