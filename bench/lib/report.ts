// Results: the JSON kept in bench/results/, the stdout table, BENCHMARKS.md and the SVG plots.
import { median, spreadOf, summarize } from './measure.ts';
import type { SubjectSamples, Summary } from './measure.ts';
import type { Skipped } from './scenario.ts';

export interface Machine {
  kernel: string;
  cores: number;
  cpu: string;
  node: string;
}

/** Everything one scenario run produced. Stored as bench/results/<scenario>.json. */
export interface ScenarioResult {
  scenario: string;
  description: string;
  baseline: string;
  steps: string[];
  /** ISO time the run finished. */
  date: string;
  machine: Machine;
  quick: boolean;
  warmup: number;
  runs: number;
  subjects: SubjectSamples[];
  skipped: Skipped[];
  notes: string[];
  /** Set when the scenario was aborted; then `subjects` may be empty. */
  error?: string;
}

interface Row {
  name: string;
  version: string;
  summary: Summary;
  vsBaseline: number | undefined;
  vsBest: number;
  isBest: boolean;
  isBaseline: boolean;
  steps: Record<string, number>;
}

function rowsOf(result: ScenarioResult): Row[] {
  const summaries = result.subjects.filter((s) => s.total.length > 0).map((s) => ({ s, summary: summarize(s.total) }));
  if (summaries.length === 0) return [];
  const best = Math.min(...summaries.map((x) => x.summary.median));
  const base = summaries.find((x) => x.s.name === result.baseline)?.summary.median;
  return summaries.map(({ s, summary }) => ({
    name: s.name,
    version: s.version ?? '',
    summary,
    vsBaseline: base === undefined ? undefined : summary.median / base,
    vsBest: summary.median / best,
    isBest: summary.median === best,
    isBaseline: s.name === result.baseline,
    steps: Object.fromEntries(result.steps.map((step) => [step, median(s.steps?.[step] ?? [])])),
  }));
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0);
}

function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? 'n/a' : `${r.toFixed(2)}×`;
}

export function machineLine(m: Machine): string {
  return `Linux ${m.kernel}, ${m.cores} cores (${m.cpu}), Node ${m.node}`;
}

// ---------- stdout ----------

function textTable(header: string[], rows: string[][], rightAlignFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function renderText(result: ScenarioResult): string {
  const out: string[] = [`== ${result.scenario}: ${result.runs} runs after ${result.warmup} warm-up per subject`];
  if (result.error) out.push(`ABORTED: ${result.error}`);
  const rows = rowsOf(result);
  if (rows.length > 0) {
    const spread = spreadOf(rows[0]!.summary).label;
    const [lo, hi] = spread.split('/');
    out.push(textTable(
      ['subject', 'version', 'runs', 'median ms', `${lo} ms`, `${hi} ms`, `vs ${result.baseline}`, 'vs best',
        ...result.steps.map((s) => `${s} ms`)],
      rows.map((r) => {
        const sp = spreadOf(r.summary);
        return [r.name, r.version, String(r.summary.runs), fmtMs(r.summary.median), fmtMs(sp.lo), fmtMs(sp.hi),
          fmtRatio(r.vsBaseline), r.isBest ? 'best' : fmtRatio(r.vsBest), ...result.steps.map((s) => fmtMs(r.steps[s]!))];
      }),
      2,
    ));
  }
  for (const s of result.skipped) out.push(`skipped ${s.name}: ${s.reason}`);
  for (const n of result.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

// ---------- markdown ----------

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function renderSection(result: ScenarioResult, svgPath: string): string {
  const out: string[] = [`## ${result.scenario}`, '', result.description, ''];
  const when = result.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  out.push(`Measured ${when} on ${machineLine(result.machine)}: ${result.runs} measured iterations per subject after ` +
    `${result.warmup} warm-up, subjects interleaved round-robin${result.quick ? ' (`--quick`: few runs, rough numbers)' : ''}. ` +
    `Baseline: **${result.baseline}**.`, '');
  if (result.error) out.push(`**Aborted:** ${mdCell(result.error)}`, '');
  const rows = rowsOf(result);
  if (rows.length > 0) {
    const spread = spreadOf(rows[0]!.summary).label;
    const [lo, hi] = spread.split('/');
    out.push(`| subject | version | runs | median ms | ${lo} ms | ${hi} ms | vs ${result.baseline} | vs best |`);
    out.push('|---|---|--:|--:|--:|--:|--:|--:|');
    for (const r of rows) {
      const sp = spreadOf(r.summary);
      out.push(`| ${r.isBaseline ? `**${mdCell(r.name)}**` : mdCell(r.name)} | ${mdCell(r.version)} | ${r.summary.runs} | ` +
        `${fmtMs(r.summary.median)} | ${fmtMs(sp.lo)} | ${fmtMs(sp.hi)} | ${fmtRatio(r.vsBaseline)} | ` +
        `${r.isBest ? 'best' : fmtRatio(r.vsBest)} |`);
    }
    out.push('');
    if (result.steps.length > 0) {
      out.push('Median per step (ms):', '');
      out.push(`| subject | ${result.steps.join(' | ')} |`);
      out.push(`|---|${result.steps.map(() => '--:').join('|')}|`);
      for (const r of rows) out.push(`| ${mdCell(r.name)} | ${result.steps.map((s) => fmtMs(r.steps[s]!)).join(' | ')} |`);
      out.push('');
    }
    out.push(`![${result.scenario}: median ms per subject](${svgPath})`, '');
  }
  if (result.skipped.length > 0) {
    out.push('Not measured:', '');
    for (const s of result.skipped) out.push(`- **${mdCell(s.name)}**: ${mdCell(s.reason)}`);
    out.push('');
  }
  if (result.notes.length > 0) {
    out.push('Notes:', '');
    for (const n of result.notes) out.push(`- ${mdCell(n)}`);
    out.push('');
  }
  return out.join('\n');
}

export function renderDocument(results: ScenarioResult[], svgPathOf: (scenario: string) => string): string {
  const machines = [...new Set(results.map((r) => machineLine(r.machine)))];
  const out = [
    '# Benchmarks',
    '',
    '<!-- Written by bench/run.ts; edits here are overwritten. -->',
    '',
    `Machine: ${machines.length ? machines.join('; ') : 'no results yet'}.`,
    `Generated ${new Date().toISOString().replace(/T.*/, '')} from the raw results in \`bench/results/*.json\`.`,
    '',
    'Reproduce (as root, with the peers installed from Debian): `npm run bench` runs every scenario;',
    '`npm run bench -- runtime-cycle --runs 50` runs one; `--quick` does 5 runs for a rough look;',
    '`node bench/run.ts --report` rewrites this file from the stored results without measuring.',
    'See `bench/README.md` for what each scenario measures.',
    '',
    'Medians are of wall time. Ratios divide a subject\'s median by the baseline\'s (or the fastest subject\'s): below 1 is faster.',
    '',
  ];
  for (const r of results) out.push(renderSection(r, svgPathOf(r.scenario)));
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

// ---------- svg ----------

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(range: number, targetTicks: number): number {
  const raw = range / targetTicks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

const STEP_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

/** A horizontal bar chart: one bar per subject (stacked by step medians if any), whisker = spread of totals. */
export function renderSvg(result: ScenarioResult): string {
  const rows = rowsOf(result);
  const width = 760;
  const left = 150;
  const right = 170;
  const top = 56;
  const rowH = 38;
  const barH = 20;
  const plotW = width - left - right;
  const hasSteps = result.steps.length > 0;
  const legendH = 48;
  const axisH = 34;
  const height = top + Math.max(rows.length, 1) * rowH + axisH + legendH;
  const spreadLabel = rows.length ? spreadOf(rows[0]!.summary).label.replace('/', '–') : '';

  const maxValue = Math.max(1e-9, ...rows.flatMap((r) => [
    spreadOf(r.summary).hi, r.summary.median, result.steps.reduce((a, s) => a + (Number.isFinite(r.steps[s]!) ? r.steps[s]! : 0), 0),
  ]));
  const step = niceStep(maxValue, 5);
  const axisMax = Math.ceil(maxValue / step) * step;
  const x = (v: number) => left + (v / axisMax) * plotW;
  const n = (v: number) => Number(v.toFixed(1));
  const tickDecimals = Math.max(0, -Math.floor(Math.log10(step)));

  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13">`);
  s.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  s.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${xml(result.scenario)}: median wall time (ms), lower is better</text>`);
  s.push(`<text x="${left}" y="40" fill="#555">${xml(`${result.runs} runs per subject after ${result.warmup} warm-up; whisker ${spreadLabel}; ` +
    `ratios vs ${result.baseline}`)}</text>`);

  // grid and axis
  const plotBottom = top + Math.max(rows.length, 1) * rowH;
  for (let v = 0; v <= axisMax + step / 2; v += step) {
    s.push(`<line x1="${n(x(v))}" y1="${top - 4}" x2="${n(x(v))}" y2="${plotBottom}" stroke="${v === 0 ? '#333' : '#e3e3e3'}"/>`);
    s.push(`<text x="${n(x(v))}" y="${plotBottom + 16}" text-anchor="middle" fill="#555">${v.toFixed(tickDecimals)}</text>`);
  }
  s.push(`<text x="${n(x(axisMax) + 30)}" y="${plotBottom + 16}" fill="#555">ms</text>`);

  if (rows.length === 0) {
    s.push(`<text x="${left + 8}" y="${top + rowH / 2}" fill="#a00">${xml(result.error ? 'aborted: no results' : 'no subjects measured')}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH + (rowH - barH) / 2;
    const cy = y + barH / 2;
    s.push(`<text x="${left - 8}" y="${n(cy + 4)}" text-anchor="end"${r.isBaseline ? ' font-weight="bold"' : ''}>${xml(r.name)}</text>`);
    if (hasSteps) {
      let at = 0;
      result.steps.forEach((step, k) => {
        const v = r.steps[step]!;
        if (!Number.isFinite(v) || v <= 0) return;
        s.push(`<rect x="${n(x(at))}" y="${n(y)}" width="${n(x(at + v) - x(at))}" height="${barH}" fill="${STEP_COLORS[k % STEP_COLORS.length]}">` +
          `<title>${xml(`${r.name} ${step}: ${fmtMs(v)} ms (median)`)}</title></rect>`);
        at += v;
      });
    } else {
      s.push(`<rect x="${left}" y="${n(y)}" width="${n(x(r.summary.median) - left)}" height="${barH}" fill="${STEP_COLORS[0]}"/>`);
    }
    const sp = spreadOf(r.summary);
    s.push(`<g stroke="#222" stroke-width="1.5"><line x1="${n(x(sp.lo))}" y1="${n(cy)}" x2="${n(x(sp.hi))}" y2="${n(cy)}"/>` +
      `<line x1="${n(x(sp.lo))}" y1="${n(cy - 5)}" x2="${n(x(sp.lo))}" y2="${n(cy + 5)}"/>` +
      `<line x1="${n(x(sp.hi))}" y1="${n(cy - 5)}" x2="${n(x(sp.hi))}" y2="${n(cy + 5)}"/>` +
      `<line x1="${n(x(r.summary.median))}" y1="${n(y - 3)}" x2="${n(x(r.summary.median))}" y2="${n(y + barH + 3)}" stroke-width="2.5"/></g>`);
    const label = `${fmtMs(r.summary.median)} ms` + (r.vsBaseline !== undefined && !r.isBaseline ? ` (${fmtRatio(r.vsBaseline)})` : r.isBaseline ? ' (baseline)' : '');
    s.push(`<text x="${n(x(axisMax) + 8)}" y="${n(cy + 4)}">${xml(label)}</text>`);
  });

  // legend
  const ly = plotBottom + axisH + 6;
  let lx = left;
  if (hasSteps) {
    result.steps.forEach((step, k) => {
      s.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${STEP_COLORS[k % STEP_COLORS.length]}"/>`);
      s.push(`<text x="${lx + 17}" y="${ly}">${xml(step)}</text>`);
      lx += 30 + step.length * 8;
    });
    s.push(`<text x="${lx}" y="${ly}" fill="#555">(bars stack the per-step medians)</text>`);
  }
  const wy = hasSteps ? ly + 20 : ly;
  s.push(`<line x1="${left}" y1="${wy - 4}" x2="${left + 24}" y2="${wy - 4}" stroke="#222" stroke-width="1.5"/>`);
  s.push(`<line x1="${left + 12}" y1="${wy - 11}" x2="${left + 12}" y2="${wy + 3}" stroke="#222" stroke-width="2.5"/>`);
  s.push(`<text x="${left + 30}" y="${wy}">${xml(`median of the total, whisker ${spreadLabel} of the total`)}</text>`);
  s.push('</svg>');
  return s.join('\n') + '\n';
}
