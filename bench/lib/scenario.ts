// The contract between bench/run.ts and a scenario. A scenario is one file under
// bench/scenarios/ whose default export is a Scenario; run.ts finds it by reading the folder.

/** One measured iteration: the whole time, and optionally where it went. */
export interface Sample {
  /** Wall time of the whole iteration in ms. Defaults to the sum of `steps`. */
  total?: number;
  /** Time per step in ms, keyed by the names in Scenario.steps. */
  steps?: Record<string, number>;
}

/** A thing measured side by side with the others: hull, runc, crun, podman, dockerd... */
export interface Subject {
  name: string;
  /** Shown in the tables, e.g. "1.1.5+ds1". */
  version?: string;
  /** One iteration: returns its wall time in ms, or per-step timings. Throws on failure. */
  run(iteration: number): number | Sample | Promise<number | Sample>;
}

/** A subject that was not measured: missing, or failed its trial run during setup. */
export interface Skipped {
  name: string;
  reason: string;
}

export interface Prepared {
  subjects: Subject[];
  skipped?: Skipped[];
  /** Facts the reader needs to interpret the numbers (workarounds applied, layouts...). */
  notes?: string[];
}

export interface ScenarioContext {
  /** Repository root (absolute). */
  repoRoot: string;
  /** A fresh directory under bench/work/ for this scenario run; run.ts removes it afterwards. */
  workDir: string;
  quick: boolean;
  /** Progress message to stderr. */
  log(message: string): void;
}

export interface Scenario {
  /** Used on the command line and for bench/results/<name>.{json,svg}. */
  name: string;
  /** One or two sentences: what one iteration does. Goes into BENCHMARKS.md. */
  description: string;
  /** Subject name that ratios are computed against. */
  baseline: string;
  /** Names of per-step timings, in order, if subjects report steps. */
  steps?: string[];
  /** Measured iterations per subject (default 30), with --quick (default 5), warm-up (default 3). */
  runs?: number;
  quickRuns?: number;
  warmup?: number;
  /** Builds fixtures and returns the subjects. Missing peers go to `skipped`, not errors. */
  setup(ctx: ScenarioContext): Promise<Prepared>;
  /** Always called after setup was entered, even if setup or a run threw. Must leave nothing behind. */
  teardown(ctx: ScenarioContext): Promise<void>;
}

export function isScenario(value: unknown): value is Scenario {
  const s = value as Partial<Scenario> | null;
  return !!s && typeof s === 'object' && typeof s.name === 'string' && typeof s.description === 'string' &&
    typeof s.baseline === 'string' && typeof s.setup === 'function' && typeof s.teardown === 'function';
}
