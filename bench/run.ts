// Benchmark entry: node bench/run.ts [scenario...] [--runs N] [--warmup N] [--quick] [--report] [--list]
// Runs the scenarios in bench/scenarios/, prints tables, stores raw results in bench/results/,
// and rewrites BENCHMARKS.md from all stored results.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeError } from './lib/command.ts';
import { measureRounds } from './lib/measure.ts';
import { renderDocument, renderSvg, renderText } from './lib/report.ts';
import type { Machine, ScenarioResult } from './lib/report.ts';
import { isScenario } from './lib/scenario.ts';
import type { Prepared, Scenario, ScenarioContext } from './lib/scenario.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);
const resultsDir = join(benchDir, 'results');
const workRoot = join(benchDir, 'work');
const documentPath = join(repoRoot, 'BENCHMARKS.md');

const USAGE = `usage: node bench/run.ts [scenario...] [--runs N] [--warmup N] [--quick] [--report] [--list]
  scenario    names from bench/scenarios/ (default: all)
  --runs N    measured iterations per subject (default: the scenario's, usually 30)
  --warmup N  warm-up iterations per subject (default: the scenario's, usually 3)
  --quick     few runs (5) for a rough look
  --report    only rewrite BENCHMARKS.md and the plots from bench/results/*.json
  --list      list scenarios and exit`;

interface Options {
  names: string[];
  runs?: number;
  warmup?: number;
  quick: boolean;
  reportOnly: boolean;
  list: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { names: [], quick: false, reportOnly: false, list: false };
  const count = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}, got ${value ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    switch (flag) {
      case '--runs': o.runs = count(flag, inline ?? argv[++i], 1); break;
      case '--warmup': o.warmup = count(flag, inline ?? argv[++i], 0); break;
      case '--quick': o.quick = true; break;
      case '--report': o.reportOnly = true; break;
      case '--list': o.list = true; break;
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      default:
        if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
        o.names.push(a);
    }
  }
  return o;
}

async function loadScenarios(): Promise<Scenario[]> {
  const dir = join(benchDir, 'scenarios');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(join(dir, file)).href);
    if (!isScenario(mod.default)) throw new Error(`bench/scenarios/${file} must export default a Scenario (see bench/lib/scenario.ts)`);
    if (`${mod.default.name}.ts` !== file) throw new Error(`bench/scenarios/${file} names itself ${mod.default.name}; name the file after it`);
    scenarios.push(mod.default);
  }
  return scenarios;
}

function machine(): Machine {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
  return { kernel: release(), cores: cpus().length, cpu, node: process.version };
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

let interrupted: string | undefined;
process.on('SIGINT', () => {
  interrupted = 'interrupted (SIGINT)';
  log('interrupted: finishing the current command, then tearing down');
});
process.on('SIGTERM', () => { interrupted = 'terminated (SIGTERM)'; });

async function runScenario(scenario: Scenario, o: Options): Promise<ScenarioResult> {
  const runs = o.runs ?? (o.quick ? scenario.quickRuns ?? 5 : scenario.runs ?? 30);
  const warmup = o.warmup ?? scenario.warmup ?? 3;
  mkdirSync(workRoot, { recursive: true });
  const ctx: ScenarioContext = {
    repoRoot,
    workDir: mkdtempSync(join(workRoot, `${scenario.name}-`)),
    quick: o.quick,
    log: (m) => log(`${scenario.name}: ${m}`),
  };
  const result: ScenarioResult = {
    scenario: scenario.name, description: scenario.description, baseline: scenario.baseline, steps: scenario.steps ?? [],
    date: '', machine: machine(), quick: o.quick, warmup, runs, subjects: [], skipped: [], notes: [],
  };
  const errors: string[] = [];
  try {
    const prepared: Prepared = await scenario.setup(ctx);
    result.skipped = prepared.skipped ?? [];
    result.notes = prepared.notes ?? [];
    if (prepared.subjects.length === 0) throw new Error('no subject could be measured');
    ctx.log(`measuring ${prepared.subjects.map((s) => s.name).join(', ')}: ${warmup} warm-up + ${runs} runs each`);
    result.subjects = await measureRounds(prepared.subjects, {
      warmup, runs,
      interrupted: () => interrupted,
      onRound: (round, total) => { if (round % 10 === 0 || round === total - 1) ctx.log(`round ${round + 1}/${total}`); },
    });
  } catch (err) {
    errors.push(describeError(err));
  } finally {
    try {
      await scenario.teardown(ctx);
    } catch (err) {
      errors.push(`teardown: ${describeError(err)}`);
    }
    rmSync(ctx.workDir, { recursive: true, force: true });
  }
  if (errors.length) {
    result.error = errors.join('; ');
    if (result.subjects.some((s) => s.total.length < runs)) result.subjects = [];
  }
  result.date = new Date().toISOString();
  return result;
}

function svgPathOf(scenario: string): string {
  return relative(repoRoot, join(resultsDir, `${scenario}.svg`));
}

/** Rewrites the plots and BENCHMARKS.md from every stored result of a known scenario, in scenario order. */
function writeReport(scenarios: Scenario[]): void {
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    let r: ScenarioResult;
    try {
      r = JSON.parse(readFileSync(join(resultsDir, `${s.name}.json`), 'utf8'));
    } catch {
      continue;
    }
    writeFileSync(join(resultsDir, `${s.name}.svg`), renderSvg(r));
    results.push(r);
  }
  writeFileSync(documentPath, renderDocument(results, svgPathOf));
  log(`wrote ${relative(repoRoot, documentPath)} (${results.length} scenario${results.length === 1 ? '' : 's'})`);
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const scenarios = await loadScenarios();
  if (o.list) {
    for (const s of scenarios) console.log(`${s.name.padEnd(20)} ${s.description}`);
    return 0;
  }
  const unknown = o.names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; have: ${scenarios.map((s) => s.name).join(', ')}`);
  mkdirSync(resultsDir, { recursive: true });
  if (o.reportOnly) {
    writeReport(scenarios);
    return 0;
  }
  const selected = o.names.length ? scenarios.filter((s) => o.names.includes(s.name)) : scenarios;
  let failed = 0;
  for (const scenario of selected) {
    if (interrupted) break;
    const result = await runScenario(scenario, o);
    if (result.error) failed++;
    console.log(renderText(result) + '\n');
    if (interrupted) break; // keep the previous stored results rather than a half run
    writeFileSync(join(resultsDir, `${scenario.name}.json`), JSON.stringify(result, null, 2) + '\n');
  }
  writeReport(scenarios);
  return interrupted ? 130 : failed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  console.error(`bench: ${describeError(err)}`);
  process.exitCode = 2;
});
