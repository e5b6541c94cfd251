// Go's text/template, so that `--format` behaves as it does in docker: this module runs
// templates and is the public face; lex.ts and parse.ts read them. Values follow the
// mapping in value.ts.
//
// Positions are kept as UTF-16 indexes and reported as Go reports them: line, and the
// byte offset within the line.

import { builtinFunctions } from './builtins.ts';
import {
  type ArgNode,
  type BranchNode,
  type CommandNode,
  type ListNode,
  type Node,
  type NumberNode,
  type PipeNode,
  type VariableNode,
  nodeString,
  Parser,
  TemplateError,
  TemplateParseError,
} from './parse.ts';
import { formatValue, quote } from './printf.ts';
import { hasMember, isTrue, kindOf, mapEntries, mapGet, mapZero, typeName, utf8Length } from './value.ts';

export { TemplateError, TemplateParseError } from './parse.ts';

// ---------------------------------------------------------------------------
// Public types

/** How an argument reaches a function; Go checks these types before the call. */
export type ArgType =
  | 'value' // anything, a missing value stays missing (Go's reflect.Value parameters)
  | 'any' // anything, a missing value becomes nil (Go's interface{} parameters)
  | 'string'
  | 'int'
  | 'bool'
  | 'strings'; // []string

export interface CallContext {
  /** True while docker's fallback pass treats every object as a map. */
  readonly objectsAreMaps: boolean;
}

export interface TemplateFunction {
  readonly params: readonly ArgType[];
  /** Type of the trailing variadic arguments, if the function takes any. */
  readonly variadic?: ArgType;
  /** Throwing makes the template fail with "error calling NAME: message". */
  readonly fn: (this: CallContext, ...args: never[]) => unknown;
}

export type FuncMap = Readonly<Record<string, TemplateFunction>>;

export type MissingKey = 'default' | 'zero' | 'error';

export interface ParseOptions {
  /** The template's name, shown in errors; docker's is "". */
  readonly name?: string;
  /** Functions beyond Go's builtins; a call to an unknown function is a parse error. */
  readonly funcs?: FuncMap;
}

export interface ExecuteOptions {
  /** Replaces functions for this execution (docker swaps in header functions). */
  readonly funcs?: FuncMap;
  /** What a missing map key yields: Go's missingkey option. */
  readonly missingKey?: MissingKey;
  /** Treat every plain object as a map, as docker's fallback over decoded JSON does. */
  readonly objectsAreMaps?: boolean;
  /** Bounds on the work a template may do; the defaults are far above any real format. */
  readonly limits?: ExecuteLimits;
}

export interface ExecuteLimits {
  /** Nodes executed, loop iterations included (default 10 million). */
  readonly steps?: number;
  /** Characters of output (default 64 Mi). */
  readonly outputChars?: number;
  /** Nesting of {{template}} calls (default 1000). */
  readonly depth?: number;
}

/** Execution failed. The message is Go's: `template: NAME:LINE:COL: executing "NAME" at <...>: ...`. */
export class TemplateExecError extends TemplateError {
  override name = 'TemplateExecError';
  /** What the template wrote before it failed (docker still prints a failed table header). */
  partial = '';
}

// ---------------------------------------------------------------------------
// Executor

const MISSING: unique symbol = Symbol('missing');
type Final = unknown | typeof MISSING;

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

const DEFAULT_LIMITS: Required<ExecuteLimits> = { steps: 10_000_000, outputChars: 64 * 1024 * 1024, depth: 1000 };

const GO_TYPE: Record<ArgType, string> = {
  value: 'reflect.Value',
  any: 'interface {}',
  string: 'string',
  int: 'int',
  bool: 'bool',
  strings: '[]string',
};

interface Variable {
  readonly name: string;
  value: unknown;
}

class Execution {
  private readonly template: Template;
  private readonly funcs: FuncMap;
  private readonly missingKey: MissingKey;
  private readonly maps: boolean;
  private node: Node | null = null;
  private vars: Variable[];
  private tmplName: string;
  private depth = 0;
  private steps = 0;
  private outLength = 0;
  readonly out: string[] = [];
  private readonly ctx: CallContext;
  private readonly builtins: FuncMap;
  private readonly limits: Required<ExecuteLimits>;

  constructor(template: Template, funcs: FuncMap, missingKey: MissingKey, maps: boolean, limits: ExecuteLimits, data: unknown) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.template = template;
    this.funcs = funcs;
    this.missingKey = missingKey;
    this.maps = maps;
    this.vars = [{ name: '$', value: data }];
    this.tmplName = template.name;
    this.ctx = { objectsAreMaps: maps };
    this.builtins = builtinFunctions();
  }

  run(root: ListNode, data: unknown): void {
    this.walk(data, root);
  }

  private at(node: Node): void {
    this.node = node;
  }

  private errorf(message: string): never {
    const name = this.tmplName;
    if (this.node === null) throw new TemplateExecError(`template: ${name}: ${message}`);
    const { line, col } = this.template.locate(this.node.pos);
    throw new TemplateExecError(
      `template: ${this.template.name}:${line}:${col}: executing ${quote(name)} at <${nodeString(this.node)}>: ${message}`,
    );
  }

  private write(s: string): void {
    this.outLength += s.length;
    if (this.outLength > this.limits.outputChars) this.errorf(`output exceeds ${this.limits.outputChars} characters`);
    this.out.push(s);
  }

  // -- variables --

  private mark(): number {
    return this.vars.length;
  }
  private pop(mark: number): void {
    this.vars.length = mark;
  }
  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  private setTopVar(n: number, value: unknown): void {
    (this.vars[this.vars.length - n] as Variable).value = value;
  }
  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) return v.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // -- statements --

  private walk(dot: unknown, node: Node): void {
    if (++this.steps > this.limits.steps) this.errorf(`execution exceeded ${this.limits.steps} steps`);
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'if':
      case 'with':
        this.walkIfOrWith(node, dot);
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.write(node.text);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkIfOrWith(node: BranchNode, dot: unknown): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val, this.maps)) {
        this.walk(node.type === 'with' ? val : dot, node.list);
      } else if (node.elseList !== null) {
        this.walk(dot, node.elseList);
      }
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const outer = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const oneIteration = (index: unknown, elem: unknown): void => {
        if (r.pipe.decl.length > 0) this.setTopVar(1, elem);
        if (r.pipe.decl.length > 1) this.setTopVar(2, index);
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
      };
      let ran = false;
      switch (kindOf(val, this.maps)) {
        case 'slice':
          (val as unknown[]).forEach((el, i) => {
            ran = true;
            oneIteration(i, el);
          });
          break;
        case 'map':
          for (const [k, v] of mapEntries(val as object)) {
            ran = true;
            oneIteration(k, v);
          }
          break;
        case 'int': {
          // Go 1.22 ranges over integers: 0 .. n-1.
          if (r.pipe.decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
          const n = BigInt(val as number | bigint);
          for (let i = 0n; i < n; i++) {
            ran = true;
            const v = i <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(i) : i;
            oneIteration(v, v);
          }
          break;
        }
        case 'invalid':
        case 'nil':
          break; // like a nil map: no iterations
        default:
          this.errorf(`range can't iterate over ${formatValue(val, { objectsAreMaps: this.maps })}`);
      }
      if (!ran && r.elseList !== null) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.pop(outer);
    }
  }

  private walkTemplate(dot: unknown, t: Extract<Node, { type: 'template' }>): void {
    this.at(t);
    const root = this.template.lookup(t.name);
    if (root === undefined) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= this.limits.depth) this.errorf(`exceeded maximum template depth (${this.limits.depth})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const saved = { vars: this.vars, name: this.tmplName };
    this.vars = [{ name: '$', value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walk(newDot, root);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.tmplName = saved.name;
    }
  }

  // -- expressions --

  private evalPipeline(dot: unknown, pipe: PipeNode | null): unknown {
    if (pipe === null) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0] as string, value);
      else this.vars.push({ name: v.ident[0] as string, value });
    }
    return value;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0] as ArgNode)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0] as ArgNode;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  private idealConstant(n: NumberNode): unknown {
    this.at(n);
    const hexInt = /^0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !hexInt && !n.text.startsWith("'") && /[.eEpP]/.test(n.text)) return n.float;
    if (n.isInt) return toJsInt(n.int);
    if (n.isUint) this.errorf(`${n.text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: unknown, field: Extract<ArgNode, { type: 'field' }>, args: readonly ArgNode[], final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: Extract<ArgNode, { type: 'chain' }>, args: readonly ArgNode[], final: Final): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const receiver = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, receiver, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: readonly ArgNode[], final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0] as string);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Node, ident: readonly string[], args: readonly ArgNode[], final: Final): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i] as string, node, [], MISSING, receiver);
    return this.evalField(dot, ident[n - 1] as string, node, args, final, receiver);
  }

  private evalField(dot: unknown, name: string, node: Node, args: readonly ArgNode[], final: Final, receiver: unknown): unknown {
    const kind = kindOf(receiver, this.maps);
    if (kind === 'invalid') {
      if (this.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(name)}`);
      return undefined;
    }
    if (kind === 'nil') this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (kind === 'struct') {
      const obj = receiver as Record<string, unknown>;
      if (hasMember(obj, name)) {
        let value: unknown;
        try {
          value = obj[name];
        } catch (e) {
          this.errorf(`error calling ${name}: ${errorMessage(e)}`);
        }
        if (typeof value === 'function') {
          const method = value as (...a: unknown[]) => unknown;
          const fn: TemplateFunction = {
            params: new Array<ArgType>(method.length).fill('any'),
            fn: (...a: never[]) => method.apply(obj, a),
          };
          return this.evalCall(dot, fn, false, node, name, args, final);
        }
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        return value;
      }
    } else if (kind === 'map') {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      const { found, value } = mapGet(receiver as object, name);
      if (found) return value;
      switch (this.missingKey) {
        case 'default':
          return undefined;
        case 'zero':
          return mapZero(receiver as object);
        case 'error':
          this.errorf(`map has no entry for key ${quote(name)}`);
      }
    }
    this.errorf(`can't evaluate field ${name} in type ${typeName(receiver, this.maps)}`);
  }

  private findFunction(name: string): { fn: TemplateFunction; builtin: boolean } | undefined {
    const own = Object.hasOwn(this.funcs, name) ? this.funcs[name] : undefined;
    if (own !== undefined) return { fn: own, builtin: false };
    const builtin = Object.hasOwn(this.builtins, name) ? this.builtins[name] : undefined;
    if (builtin !== undefined) return { fn: builtin, builtin: true };
    return undefined;
  }

  private evalFunction(dot: unknown, node: Extract<ArgNode, { type: 'identifier' }>, cmd: Node, args: readonly ArgNode[], final: Final): unknown {
    this.at(node);
    const found = this.findFunction(node.name);
    if (found === undefined) this.errorf(`${quote(node.name)} is not a defined function`);
    return this.evalCall(dot, found.fn, found.builtin, cmd, node.name, args, final);
  }

  private evalCall(dot: unknown, f: TemplateFunction, builtin: boolean, node: Node, name: string, allArgs: readonly ArgNode[], final: Final): unknown {
    const args = allArgs.slice(1); // the first is the function's own name or field
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    const numFixed = f.variadic !== undefined ? f.params.length : args.length;
    if (f.variadic !== undefined) {
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
    } else if (numIn !== f.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${f.params.length} got ${numIn}`);
    }
    if (builtin && (name === 'and' || name === 'or')) {
      // Go 1.18+: evaluate lazily and stop at the first argument that decides the result.
      let v: unknown;
      for (const arg of args) {
        v = this.evalArg(dot, 'value', arg);
        if (isTrue(v, this.maps) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: unknown[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, f.params[i] as ArgType, args[i] as ArgNode));
    if (f.variadic !== undefined) for (; i < args.length; i++) argv.push(this.evalArg(dot, f.variadic, args[i] as ArgNode));
    if (final !== MISSING) {
      let t: ArgType;
      if (f.variadic !== undefined) t = numIn - 1 < numFixed ? (f.params[numIn - 1] as ArgType) : f.variadic;
      else t = f.params[f.params.length - 1] as ArgType;
      argv.push(this.validateType(final, t));
    }
    try {
      return (f.fn as (this: CallContext, ...a: unknown[]) => unknown).apply(this.ctx, argv);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${errorMessage(e)}`);
    }
  }

  private validateType(value: unknown, type: ArgType): unknown {
    if (value === undefined) {
      switch (type) {
        case 'value':
          return undefined;
        case 'any':
          return null;
        case 'strings':
          return [];
        default:
          this.errorf(`invalid value; expected ${GO_TYPE[type]}`);
      }
    }
    const kind = kindOf(value, this.maps);
    switch (type) {
      case 'value':
      case 'any':
        return value;
      case 'string':
        if (kind === 'string') return value;
        break;
      case 'int':
        if (kind === 'int') return value;
        break;
      case 'bool':
        if (kind === 'bool') return value;
        break;
      case 'strings':
        if (value === null) return [];
        if (kind === 'slice' && (value as unknown[]).every((s) => typeof s === 'string')) return value;
        break;
    }
    this.errorf(`wrong type for value; expected ${GO_TYPE[type]}; got ${typeName(value, this.maps)}`);
  }

  private evalArg(dot: unknown, type: ArgType, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, type);
      case 'nil':
        if (type === 'value') return undefined;
        if (type === 'any') return null;
        if (type === 'strings') return [];
        this.errorf(`cannot assign nil to ${GO_TYPE[type]}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), type);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, [], MISSING), type);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), type);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, [], MISSING), type);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), type);
    }
    switch (type) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return toJsInt(n.int);
        this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'strings':
        this.errorf(`can't handle ${nodeString(n)} for arg of type []string`);
      case 'value':
      case 'any':
        switch (n.type) {
          case 'bool':
            return n.value;
          case 'number':
            return this.idealConstant(n);
          case 'string':
            return n.text;
        }
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${GO_TYPE[type]}`);
  }

  private printValue(node: Node, v: unknown): void {
    this.at(node);
    // In the map pass a null came from JSON: Go holds it as a nil interface, which
    // prints as a missing value; a typed nil (a pointer) prints "<nil>".
    if (v === undefined || (v === null && this.maps)) {
      this.write('<no value>');
      return;
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type func`);
    this.write(formatValue(v, { objectsAreMaps: this.maps }));
  }
}

function toJsInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

// ---------------------------------------------------------------------------
// Template

export class Template {
  readonly name: string;
  private readonly text: string;
  private readonly trees: ReadonlyMap<string, ListNode>;
  private readonly funcs: FuncMap;

  private constructor(name: string, text: string, trees: ReadonlyMap<string, ListNode>, funcs: FuncMap) {
    this.name = name;
    this.text = text;
    this.trees = trees;
    this.funcs = funcs;
  }

  /** Parses Go template text; throws TemplateParseError with Go's message. */
  static parse(text: string, options: ParseOptions = {}): Template {
    const name = options.name ?? '';
    const funcs = options.funcs ?? {};
    const known = new Set<string>([...Object.keys(builtinFunctions()), ...Object.keys(funcs)]);
    const parser = new Parser(name, text, known);
    try {
      parser.parse();
    } catch (e) {
      if (e instanceof RangeError) throw new TemplateParseError(`template: ${name}:1: template is nested too deeply`, 1);
      throw e;
    }
    return new Template(name, text, parser.trees, funcs);
  }

  /** Names of the templates defined with define or block, and the main one. */
  get templateNames(): string[] {
    return [...this.trees.keys()];
  }

  lookup(name: string): ListNode | undefined {
    return this.trees.get(name);
  }

  /** Runs the template on data; throws TemplateExecError with Go's message. */
  execute(data: unknown, options: ExecuteOptions = {}): string {
    return this.executeTemplate(this.name, data, options);
  }

  /** Runs one of the templates defined in the text, as Go's ExecuteTemplate. */
  executeTemplate(name: string, data: unknown, options: ExecuteOptions = {}): string {
    const root = this.trees.get(name);
    if (root === undefined) {
      throw new TemplateExecError(`template: no template ${quote(name)} associated with template ${quote(this.name)}`);
    }
    const funcs = { ...this.funcs, ...options.funcs };
    const exec = new Execution(this, funcs, options.missingKey ?? 'default', options.objectsAreMaps ?? false, options.limits ?? {}, data);
    try {
      exec.run(root, data);
    } catch (e) {
      const err =
        e instanceof TemplateExecError
          ? e
          : e instanceof RangeError
            ? new TemplateExecError(`template: ${this.name}: execution nested too deeply`)
            : e;
      if (err instanceof TemplateExecError) err.partial = exec.out.join('');
      throw err;
    }
    return exec.out.join('');
  }

  /** Go's error location: line, and the byte offset within that line. */
  locate(pos: number): { line: number; col: number } {
    const before = this.text.slice(0, pos);
    const nl = before.lastIndexOf('\n');
    let line = 1;
    for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 10) line++;
    return { line, col: utf8Length(before.slice(nl + 1)) };
  }
}

/** Parses and runs a template in one step. */
export function executeTemplate(text: string, data: unknown, options: ParseOptions & ExecuteOptions = {}): string {
  return Template.parse(text, options).execute(data, options);
}
