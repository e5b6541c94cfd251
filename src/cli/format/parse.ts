// The parser of Go's text/template (text/template/parse): builds the tree of a template
// and of the templates it defines, with Go's error messages.

import { type Item, type ItemType, itemString, lex } from './lex.ts';
import { quote } from './printf.ts';
import { utf8Decode } from './value.ts';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** The template text is malformed. The message is Go's: `template: NAME:LINE: ...`. */
export class TemplateParseError extends TemplateError {
  override name = 'TemplateParseError';
  /** The line Go reports: that of the last item read. */
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

// ---------------------------------------------------------------------------
// Parse tree

export interface NumberNode {
  readonly type: 'number';
  readonly pos: number;
  readonly text: string;
  readonly isInt: boolean;
  readonly isUint: boolean;
  readonly isFloat: boolean;
  readonly int: bigint;
  readonly float: number;
}

export type ArgNode =
  | PipeNode
  | { readonly type: 'field'; readonly pos: number; readonly ident: readonly string[] }
  | { readonly type: 'chain'; readonly pos: number; readonly node: ArgNode; readonly field: readonly string[] }
  | VariableNode
  | { readonly type: 'dot' | 'nil'; readonly pos: number }
  | { readonly type: 'bool'; readonly pos: number; readonly value: boolean }
  | NumberNode
  | { readonly type: 'string'; readonly pos: number; readonly quoted: string; readonly text: string }
  | { readonly type: 'identifier'; readonly pos: number; readonly name: string };

export interface VariableNode {
  readonly type: 'variable';
  readonly pos: number;
  readonly ident: readonly string[];
}

export interface CommandNode {
  readonly type: 'command';
  readonly pos: number;
  readonly args: ArgNode[];
}

export interface PipeNode {
  readonly type: 'pipe';
  readonly pos: number;
  isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}

export interface ListNode {
  readonly type: 'list';
  readonly pos: number;
  readonly nodes: Node[];
}

export interface BranchNode {
  readonly type: 'if' | 'range' | 'with';
  readonly pos: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | null;
}

export type Node =
  | ListNode
  | { readonly type: 'text'; readonly pos: number; readonly text: string }
  | { readonly type: 'action'; readonly pos: number; readonly pipe: PipeNode }
  | BranchNode
  | { readonly type: 'template'; readonly pos: number; readonly name: string; readonly pipe: PipeNode | null }
  | { readonly type: 'break' | 'continue' | 'end' | 'else'; readonly pos: number }
  | CommandNode
  | ArgNode;

/** Renders a node as Go's Node.String() does, for error contexts. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return n.text;
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with':
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList ? `{{else}}${nodeString(n.elseList)}` : ''}{{end}}`;
    case 'template':
      return `{{template ${quote(n.name)}${n.pipe ? ` ${nodeString(n.pipe)}` : ''}}}`;
    case 'break':
    case 'continue':
    case 'end':
    case 'else':
      return `{{${n.type}}}`;
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'pipe': {
      const decl = n.decl.length > 0 ? `${n.decl.map(nodeString).join(', ')} := ` : '';
      return decl + n.cmds.map(nodeString).join(' | ');
    }
    case 'field':
      return n.ident.map((i) => `.${i}`).join('');
    case 'chain':
      return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => `.${f}`).join('');
    case 'variable':
      return n.ident.join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'identifier':
      return n.name;
  }
}

function isEmptyTree(n: Node): boolean {
  switch (n.type) {
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return n.text.trim() === '';
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// Literals

/** strconv.Unquote for "..." and `...` literals (and '.' runes, returned as their text). */
function unquote(s: string): string | null {
  const q = s[0];
  if (s.length < 2 || s[s.length - 1] !== q) return null;
  const body = s.slice(1, -1);
  if (q === '`') return body.includes('`') ? null : body.replaceAll('\r', '');
  if (q !== '"' && q !== "'") return null;
  // Escapes such as \xff are bytes, so build bytes and decode them as UTF-8 at the end.
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushRune = (cp: number): void => {
    for (const b of enc.encode(String.fromCodePoint(cp))) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const c = body.codePointAt(i) as number;
    const ch = String.fromCodePoint(c);
    if (ch === q && q === '"') return null;
    if (ch === '\n') return null;
    if (ch !== '\\') {
      pushRune(c);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        bytes.push(7);
        break;
      case 'b':
        bytes.push(8);
        break;
      case 'f':
        bytes.push(12);
        break;
      case 'n':
        bytes.push(10);
        break;
      case 'r':
        bytes.push(13);
        break;
      case 't':
        bytes.push(9);
        break;
      case 'v':
        bytes.push(11);
        break;
      case '\\':
        bytes.push(92);
        break;
      case "'":
      case '"':
        if (e !== q) return null;
        bytes.push(e.charCodeAt(0));
        break;
      case 'x':
      case 'u':
      case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = body.slice(i, i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return null;
        const v = parseInt(hex, 16);
        i += n;
        if (e === 'x') bytes.push(v);
        else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
        else pushRune(v);
        break;
      }
      default: {
        if (e === undefined || e < '0' || e > '7') return null;
        const oct = body.slice(i - 1, i + 2);
        if (!/^[0-7]{3}$/.test(oct)) return null;
        const v = parseInt(oct, 8);
        if (v > 255) return null;
        bytes.push(v);
        i += 2;
      }
    }
  }
  return utf8Decode(Uint8Array.from(bytes));
}

const UNDERSCORE_OK = /^[+-]?(0[xXoObB]_?)?[0-9a-fA-F]+(_[0-9a-fA-F]+)*(\.[0-9a-fA-F]*(_[0-9a-fA-F]+)*)?([eEpP][+-]?[0-9]+(_[0-9]+)*)?$/;

/** strconv.ParseInt(s, 0, 64), or null when s is not an integer literal. */
function parseGoInt(text: string): bigint | null {
  let s = text;
  if (s.includes('_') && !UNDERSCORE_OK.test(s)) return null;
  s = s.replaceAll('_', '');
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let digits: string;
  let radix: number;
  if (/^0[xX]/.test(s)) [digits, radix] = [s.slice(2), 16];
  else if (/^0[oO]/.test(s)) [digits, radix] = [s.slice(2), 8];
  else if (/^0[bB]/.test(s)) [digits, radix] = [s.slice(2), 2];
  else if (/^0[0-9]/.test(s)) [digits, radix] = [s.slice(1), 8];
  else [digits, radix] = [s, 10];
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[radix as 2 | 8 | 10 | 16];
  if (!valid.test(digits)) return null;
  let v = 0n;
  for (const d of digits) v = v * BigInt(radix) + BigInt(parseInt(d, radix));
  return neg ? -v : v;
}

/** strconv.ParseFloat(s, 64) for decimal and hexadecimal literals, or null. */
function parseGoFloat(text: string): number | null {
  let s = text;
  if (s.includes('_') && !UNDERSCORE_OK.test(s)) return null;
  s = s.replaceAll('_', '');
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
  if (hex) {
    const [, sign, int = '', frac = '', exp = '0'] = hex;
    if (int === '' && frac === '') return null;
    let m = 0;
    for (const d of int + frac) m = m * 16 + parseInt(d, 16);
    const v = m * 2 ** (Number(exp) - 4 * frac.length);
    return sign === '-' ? -v : v;
  }
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function newNumber(pos: number, text: string, type: ItemType): NumberNode | string {
  if (type === 'charConstant') {
    const s = unquote(text);
    if (s === null) return 'invalid syntax';
    const runes = Array.from(s);
    if (runes.length !== 1) return `malformed character constant: ${text}`;
    const v = BigInt(runes[0]?.codePointAt(0) ?? 0);
    return { type: 'number', pos, text, isInt: true, isUint: true, isFloat: true, int: v, float: Number(v) };
  }
  if (type === 'complex' || text.endsWith('i')) return `complex number ${text} is not supported`;
  const i = parseGoInt(text);
  if (i !== null) {
    const isInt = i >= INT64_MIN && i <= INT64_MAX;
    const isUint = i >= 0n && i <= UINT64_MAX;
    if (isInt || isUint) return { type: 'number', pos, text, isInt, isUint, isFloat: true, int: i, float: Number(i) };
  }
  const f = parseGoFloat(text);
  if (f !== null) {
    if (!/[.eEpP]/.test(text)) return `integer overflow: ${quote(text)}`;
    const integral = Number.isInteger(f) && Math.abs(f) < 2 ** 63;
    const int = integral ? BigInt(f) : 0n;
    return { type: 'number', pos, text, isInt: integral, isUint: integral && f >= 0, isFloat: true, int, float: f };
  }
  return `illegal number syntax: ${quote(text)}`;
}

// ---------------------------------------------------------------------------
// Parser

const MAX_PARSE_DEPTH = 1000;

interface TreeScope {
  vars: string[];
  rangeDepth: number;
  actionLine: number;
}

export class Parser {
  private readonly name: string;
  private readonly funcs: ReadonlySet<string>;
  private readonly items: Item[];
  private idx = 0;
  private furthest = 0;
  private scope: TreeScope = { vars: ['$'], rangeDepth: 0, actionLine: 0 };
  private depth = 0;
  readonly trees = new Map<string, ListNode>();

  constructor(name: string, text: string, funcs: ReadonlySet<string>) {
    this.name = name;
    this.funcs = funcs;
    // A function named break or continue turns the keyword into a call, as in Go.
    this.items = lex(text, !funcs.has('break'), !funcs.has('continue'));
  }

  parse(): void {
    const root = this.newList(this.peek().pos);
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const delimAt = this.idx;
        this.next();
        if (this.nextNonSpace().type === 'define') {
          this.parseDefinition();
          continue;
        }
        this.idx = delimAt;
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.add(this.name, root);
  }

  // -- token access --

  private fetch(i: number): Item {
    const last = this.items.length - 1;
    const at = Math.min(i, last);
    if (at > this.furthest) this.furthest = at;
    return this.items[at] as Item;
  }
  private next(): Item {
    return this.fetch(this.idx++);
  }
  private backup(): void {
    this.idx--;
  }
  private peek(): Item {
    return this.fetch(this.idx);
  }
  private nextNonSpace(): Item {
    let item: Item;
    do item = this.next();
    while (item.type === 'space');
    return item;
  }
  private peekNonSpace(): Item {
    const item = this.nextNonSpace();
    this.backup();
    return item;
  }

  // -- errors --

  private errorf(message: string): never {
    const line = this.fetch(this.furthest).line;
    throw new TemplateParseError(`template: ${this.name}:${line}: ${message}`, line);
  }

  private unexpected(token: Item, context: string): never {
    if (token.type === 'error') {
      let extra = '';
      if (this.scope.actionLine !== 0 && this.scope.actionLine !== token.line) {
        extra = ` in action started at ${this.name}:${this.scope.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  private expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.type !== expected) this.unexpected(token, context);
    return token;
  }

  // -- structure --

  private newList(pos: number): ListNode {
    return { type: 'list', pos, nodes: [] };
  }

  private add(name: string, root: ListNode): void {
    const existing = this.trees.get(name);
    if (existing === undefined || isEmptyTree(existing)) {
      this.trees.set(name, root);
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${quote(name)}`);
  }

  /** Parses a define or block body with the fresh variable scope a new tree gets. */
  private inNewTree<T>(body: () => T): T {
    const saved = this.scope;
    this.scope = { vars: ['$'], rangeDepth: 0, actionLine: 0 };
    try {
      return body();
    } finally {
      this.scope = saved;
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const token = this.nextNonSpace();
    if (token.type !== 'string' && token.type !== 'rawString') this.unexpected(token, context);
    const name = unquote(token.val);
    if (name === null) this.errorf('invalid syntax');
    this.expect('rightDelim', context);
    this.inNewTree(() => {
      const [root, end] = this.itemList();
      if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      this.add(name, root);
    });
  }

  private itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'text':
        return { type: 'text', pos: token.pos, text: token.val };
      case 'leftDelim':
        this.scope.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.scope.actionLine = 0;
        }
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): Node {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue':
        return this.loopControl(token);
      case 'else':
        return this.elseControl();
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
      case 'if':
      case 'range':
      case 'with':
        return this.branchControl(token.type);
      case 'template':
        return this.templateControl();
    }
    this.backup();
    const start = this.peek();
    return { type: 'action', pos: start.pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private loopControl(keyword: Item): Node {
    const what = `{{${keyword.val}}}`;
    const token = this.nextNonSpace();
    if (token.type !== 'rightDelim') this.unexpected(token, what);
    if (this.scope.rangeDepth === 0) this.errorf(`${what} outside {{range}}`);
    return { type: keyword.type as 'break' | 'continue', pos: keyword.pos };
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    // "else if" and "else with" chain: the keyword is left for branchControl to see.
    if (peek.type === 'if' || peek.type === 'with') return { type: 'else', pos: peek.pos };
    const token = this.expect('rightDelim', 'else');
    return { type: 'else', pos: token.pos };
  }

  private branchControl(type: 'if' | 'range' | 'with'): BranchNode {
    const savedVars = this.scope.vars.length;
    try {
      const pipe = this.pipeline(type, 'rightDelim');
      if (type === 'range') this.scope.rangeDepth++;
      const [list, next] = this.itemList();
      if (type === 'range') this.scope.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        const chained = this.peek().type;
        if ((type === 'if' && chained === 'if') || (type === 'with' && chained === 'with')) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branchControl(type));
        } else {
          const [list2, end] = this.itemList();
          if (end.type !== 'end') this.errorf(`expected end; found ${nodeString(end)}`);
          elseList = list2;
        }
      }
      return { type, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.scope.vars.length = savedVars;
    }
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.type !== 'string' && token.type !== 'rawString') this.unexpected(token, context);
    const name = unquote(token.val);
    if (name === null) this.errorf('invalid syntax');
    return name;
  }

  private blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, 'rightDelim');
    this.inNewTree(() => {
      const [root, end] = this.itemList();
      if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      this.add(name, root);
    });
    return { type: 'template', pos: token.pos, name, pipe };
  }

  private templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: token.pos, name, pipe };
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    if (++this.depth > MAX_PARSE_DEPTH) this.errorf('max expression depth exceeded');
    try {
      return this.pipelineBody(context, end);
    } finally {
      this.depth--;
    }
  }

  private pipelineBody(context: string, end: ItemType): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const vAt = this.idx;
      this.next();
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: v.val.split('.') });
        this.scope.vars.push(v.val);
      } else if (next.type === 'char' && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: v.val.split('.') });
        this.scope.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue decls;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else {
        this.idx = vAt; // not a declaration: the variable starts a command
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (token.type) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]?.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().type !== 'field') return node;
    const chainPos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        // Go gives a multi-part field the position of its second part.
        return { type: 'field', pos: chainPos, ident: [...node.ident, ...fields] };
      case 'variable':
        return { type: 'variable', pos: chainPos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
      default:
        return { type: 'chain', pos: chainPos, node, field: fields };
    }
  }

  private term(): ArgNode | null {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'identifier':
        if (!this.funcs.has(token.val)) this.errorf(`function ${quote(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, name: token.val };
      case 'dot':
        return { type: 'dot', pos: token.pos };
      case 'nil':
        return { type: 'nil', pos: token.pos };
      case 'variable': {
        const ident = token.val.split('.');
        if (!this.scope.vars.includes(ident[0] as string)) this.errorf(`undefined variable ${quote(ident[0] as string)}`);
        return { type: 'variable', pos: token.pos, ident };
      }
      case 'field':
        return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number': {
        const n = newNumber(token.pos, token.val, token.type);
        if (typeof n === 'string') this.errorf(n);
        return n;
      }
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString': {
        const text = unquote(token.val);
        if (text === null) this.errorf('invalid syntax');
        return { type: 'string', pos: token.pos, quoted: token.val, text };
      }
    }
    this.backup();
    return null;
  }
}
