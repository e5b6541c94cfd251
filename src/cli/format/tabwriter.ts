// Go's text/tabwriter (elastic tabstops), as docker's fork of it aligns tables.
//
// Cells are terminated by a tab; the text after a line's last tab is not part of any
// column and is never padded. Tab-terminated cells in adjacent lines form a column,
// as wide as its widest cell plus the padding, and at least minWidth. A line without
// tabs ends every column above it.

import { stringWidth } from './cellwidth.ts';

export interface TabWriterOptions {
  /** Minimal cell width, padding included. */
  readonly minWidth: number;
  /** Width of a tab, when padChar is a tab or tabIndent is set. */
  readonly tabWidth: number;
  /** Added to the widest cell of a column. */
  readonly padding: number;
  /** One character used for padding; a tab pads to multiples of tabWidth. */
  readonly padChar: string;
  /** Right-align cell contents. */
  readonly alignRight?: boolean;
  /** Drop columns whose cells are all empty and ended by \v (soft tabs). */
  readonly discardEmptyColumns?: boolean;
  /** Pad leading empty cells with tabs whatever padChar is. */
  readonly tabIndent?: boolean;
  /** Print '|' between columns. */
  readonly debug?: boolean;
  /** Display width of a cell's text; docker counts East Asian wide characters as two. */
  readonly width?: (text: string) => number;
}

/** docker's tables: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABLE: TabWriterOptions = { minWidth: 10, tabWidth: 1, padding: 3, padChar: ' ' };

export class TabWriterError extends Error {
  override name = 'TabWriterError';
}

interface Cell {
  readonly text: string;
  readonly width: number;
  /** Ended by a hard tab ('\t') rather than a soft one ('\v') or a line break. */
  readonly htab: boolean;
}

export class TabWriter {
  private readonly opts: TabWriterOptions;
  private readonly measure: (text: string) => number;
  private lines: Cell[][] = [[]];
  private cell = '';
  private widths: number[] = [];
  private out: string[] = [];

  constructor(options: TabWriterOptions) {
    const { minWidth, tabWidth, padding, padChar } = options;
    if (![minWidth, tabWidth, padding].every((n) => Number.isInteger(n) && n >= 0)) {
      throw new TabWriterError(`tabwriter: minWidth, tabWidth and padding must be integers >= 0, got ${minWidth}, ${tabWidth}, ${padding}`);
    }
    if (Array.from(padChar).length !== 1) throw new TabWriterError(`tabwriter: padChar must be one character, got ${JSON.stringify(padChar)}`);
    // Padding with tabs only works left-aligned.
    this.opts = padChar === '\t' ? { ...options, alignRight: false } : options;
    this.measure = options.width ?? stringWidth;
  }

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') continue;
      this.cell += text.slice(start, i);
      start = i + 1;
      const ncells = this.terminateCell(ch === '\t');
      if (ch === '\n' || ch === '\f') {
        this.lines.push([]);
        // A line of one cell belongs to no column, so nothing after it can change
        // what came before: write everything out.
        if (ch === '\f' || ncells === 1) {
          this.flushLines();
          if (ch === '\f' && this.opts.debug) this.out.push('---\n');
        }
      }
    }
    this.cell += text.slice(start);
  }

  /** Formats everything written so far and returns the output not yet returned. */
  flush(): string {
    if (this.cell.length > 0) this.terminateCell(false);
    this.flushLines();
    const out = this.out.join('');
    this.out = [];
    return out;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1] as Cell[];
    line.push({ text: this.cell, width: this.measure(this.cell), htab });
    this.cell = '';
    return line.length;
  }

  private flushLines(): void {
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  /** Formats lines [line0, line1): each column block is sized, then the next column inside it. */
  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= (this.lines[cur] as Cell[]).length - 1) continue;
      // This line has a cell in this column: a block of such lines starts here.
      this.writeLines(line0, cur);
      line0 = cur;
      let width = this.opts.minWidth;
      let discardable = true;
      for (; cur < line1; cur++) {
        const line = this.lines[cur] as Cell[];
        if (column >= line.length - 1) break;
        const c = line[column] as Cell;
        width = Math.max(width, c.width + this.opts.padding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && this.opts.discardEmptyColumns) width = 0;
      this.widths.push(width);
      this.format(line0, cur);
      this.widths.pop();
      line0 = cur;
    }
    this.writeLines(line0, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i] as Cell[];
      let useTabs = this.opts.tabIndent ?? false;
      line.forEach((c, j) => {
        if (j > 0 && this.opts.debug) this.out.push('|');
        const colWidth = this.widths[j];
        if (c.text.length === 0) {
          if (colWidth !== undefined) this.writePadding(c.width, colWidth, useTabs);
          return;
        }
        useTabs = false;
        if (this.opts.alignRight) {
          if (colWidth !== undefined) this.writePadding(c.width, colWidth, false);
          this.out.push(c.text);
        } else {
          this.out.push(c.text);
          if (colWidth !== undefined) this.writePadding(c.width, colWidth, false);
        }
      });
      // The last line is the one still being written: it has no newline yet.
      if (i + 1 === this.lines.length) this.out.push(this.cell);
      else this.out.push('\n');
    }
  }

  private writePadding(textWidth: number, cellWidth: number, useTabs: boolean): void {
    if (this.opts.padChar === '\t' || useTabs) {
      const tw = this.opts.tabWidth;
      if (tw === 0) return; // tabs have no width: no padding possible
      const cells = Math.ceil(cellWidth / tw) * tw;
      this.out.push('\t'.repeat(Math.ceil((cells - textWidth) / tw)));
      return;
    }
    this.out.push(this.opts.padChar.repeat(Math.max(cellWidth - textWidth, 0)));
  }
}

/** Aligns tab-separated text in one go. */
export function tabwrite(text: string, options: TabWriterOptions = DOCKER_TABLE): string {
  const w = new TabWriter(options);
  w.write(text);
  return w.flush();
}
