// docker's `--format` front end (docker/cli cli/command/formatter and cli/command/inspect):
// the `table` and `json` directives, table headers, column alignment, and inspect's
// fallback from typed values to plain maps.

import { dockerFunctions, dockerHeaderFunctions } from './functions.ts';
import { encodeJson } from './json.ts';
import { DOCKER_TABLE, tabwrite } from './tabwriter.ts';
import { Template, TemplateExecError, TemplateParseError, type CallContext, type FuncMap } from './template.ts';
import { goMap } from './value.ts';

export { goMap } from './value.ts';

/**
 * A bad format. The message is docker's, e.g.
 * `template parsing error: template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type ...`
 * (docker says "parsing" for execution errors too). docker exits 64 for a parse error
 * in `inspect --format`, and 1 otherwise.
 */
export class FormatError extends Error {
  override name = 'FormatError';
  readonly kind: 'parse' | 'execute';
  constructor(kind: 'parse' | 'execute', message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

export interface FormatContext {
  /** Column header per field name, as docker names them: { ID: 'IMAGE ID', CreatedSince: 'CREATED' }. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The command's default format, used for '' and 'table' as docker's New*Format does,
   * e.g. 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}', or '{{.ID}}' for --quiet.
   */
  readonly table?: string;
  /** The command's format for `--format raw`, for the commands that have one. */
  readonly raw?: string;
}

const TABLE = 'table';

/**
 * Renders list rows (`docker images`, `ps`, `history`, ...): one line per row.
 * `table ...` adds a header line made from `ctx.headers` and aligns columns;
 * `json` prints each row as a JSON object on its own line, keys sorted as docker does;
 * any other format prints each row as the template says, unaligned.
 * Rows are usually plain objects whose fields are the template's fields; a function
 * property is a method that templates can call with arguments (`{{.Label "x"}}`).
 */
export function renderRows(format: string, rows: readonly unknown[], ctx: FormatContext): string {
  let source = format;
  if ((source === '' || source === TABLE) && ctx.table !== undefined) source = ctx.table;
  else if (source === 'raw' && ctx.raw !== undefined) source = ctx.raw;
  const isTable = source.startsWith(TABLE);
  let text = isTable ? source.slice(TABLE.length) : source === 'json' ? '{{json .}}' : source;
  // docker trims spaces and turns the two-character sequences \t and \n into the real ones.
  text = text.replace(/^ +| +$/g, '').replaceAll('\\t', '\t').replaceAll('\\n', '\n');

  const tmpl = parseFormat(text);
  let body = '';
  for (const row of rows) {
    try {
      body += `${tmpl.execute(row, { funcs: rowFunctions(row) })}\n`;
    } catch (e) {
      throw asFormatError(e);
    }
  }
  if (!isTable) return body;

  // The header is the same template run on the map of column names. docker ignores an
  // error here and keeps what was written before it.
  let header: string;
  try {
    header = tmpl.execute(goMap({ ...ctx.headers }, ''), { funcs: dockerHeaderFunctions() });
  } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
    header = e.partial;
  }
  return tabwrite(`${header}\n${body}`, DOCKER_TABLE);
}

/**
 * Renders one value for `inspect --format` (no trailing newline). Like docker, it first
 * runs the template on the value as typed (a plain object is a struct: unknown fields are
 * errors); if that fails it runs it again treating every object as a map, where a missing
 * key is an error ("map has no entry for key"), and reports that pass's error.
 */
export function renderOne(format: string, value: unknown): string {
  const tmpl = parseFormat(format);
  try {
    return tmpl.execute(value);
  } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
  }
  try {
    return tmpl.execute(value, { objectsAreMaps: true, missingKey: 'error' });
  } catch (e) {
    throw asFormatError(e);
  }
}

export interface InspectResult {
  /** What docker writes to stdout. */
  readonly output: string;
  /** One message per value the template failed on; docker prints them and exits 1. */
  readonly errors: readonly string[];
}

/**
 * docker's `inspect` output for several values: '' prints an indented JSON array,
 * 'json' a compact one, and a template prints one line per value. A template that
 * does not parse throws FormatError (kind 'parse') before anything is printed.
 */
export function renderInspect(format: string, values: readonly unknown[]): InspectResult {
  if (format === '' || format === 'json') {
    if (values.length === 0) return { output: '[]\n', errors: [] };
    const indent = format === '' ? { indent: '    ' } : {};
    // The daemon's JSON escapes <, > and &, and docker prints it as it came.
    return { output: `${encodeJson(values, { escapeHTML: true, ...indent })}\n`, errors: [] };
  }
  parseFormat(format);
  let output = '';
  const errors: string[] = [];
  for (const value of values) {
    try {
      output += `${renderOne(format, value)}\n`;
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      errors.push(e.message);
    }
  }
  return { output: output === '' ? '\n' : output, errors };
}

/**
 * Prints what `volume inspect` and `network inspect` found, then the lookup errors and the
 * template's, as docker does; returns the exit status (64 for a template that does not parse,
 * before anything is printed; 1 after any error).
 */
export function writeInspect(format: string, found: readonly unknown[], lookupErrors: readonly string[]): number {
  let result;
  try {
    result = renderInspect(format, found);
  } catch (err) {
    if (err instanceof FormatError && err.kind === 'parse') {
      process.stderr.write(`${err.message}\n`);
      return 64;
    }
    throw err;
  }
  process.stdout.write(result.output);
  const errors = [...lookupErrors, ...result.errors];
  if (!errors.length) return 0;
  process.stderr.write(`${errors.join('\n')}\n`);
  return 1;
}

function parseFormat(text: string): Template {
  try {
    return Template.parse(text, { funcs: dockerFunctions() });
  } catch (e) {
    if (e instanceof TemplateParseError) throw new FormatError('parse', `template parsing error: ${e.message}`, { cause: e });
    throw e;
  }
}

function asFormatError(e: unknown): unknown {
  if (e instanceof TemplateExecError) return new FormatError('execute', `template parsing error: ${e.message}`, { cause: e });
  return e;
}

/**
 * docker marshals a row with json.Marshal of the map of its fields, so `{{json .}}` on a
 * row has sorted keys and escapes <, > and & ("\u003cnone\u003e"); other values are
 * encoded by the template function, which does not escape.
 */
function rowFunctions(row: unknown): FuncMap {
  return {
    json: {
      params: ['any'],
      fn(this: CallContext, v: unknown): string {
        const isRow = v === row;
        try {
          return encodeJson(v, { objectsAreMaps: this.objectsAreMaps, sortTopLevelKeys: isRow, escapeHTML: isRow });
        } catch {
          return '';
        }
      },
    },
  };
}
