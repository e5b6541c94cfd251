// hull's engine settings, in the spirit of docker's daemon.json: /etc/hull/daemon.json, or the
// file $HULL_DAEMON_CONFIG names. Only the keys below are read; unknown keys are refused so a typo
// never silently does nothing.
import { readFileSync } from 'node:fs';

export interface EngineConfig {
  insecureRegistries: string[];
  registryMirrors: Record<string, string[]>;
  allowNondistributableArtifacts: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** Limits for one layer, against decompression bombs and hostile archives. */
  layerMaxBytes: number;
  layerMaxEntries: number;
  /** The default bridge's gateway address and prefix ("172.17.0.1/16"); "" picks a free subnet. */
  bip: string;
  /** Where networks without --subnet take their subnets from; empty means docker's defaults. */
  defaultAddressPools: { base: string; size: number }[];
  mtu: number;
}

export const DEFAULT_CONFIG_FILE = '/etc/hull/daemon.json';

const DEFAULTS: EngineConfig = {
  insecureRegistries: [],
  registryMirrors: {},
  allowNondistributableArtifacts: [],
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  layerMaxBytes: 64 * 2 ** 30,
  layerMaxEntries: 4_000_000,
  bip: '',
  defaultAddressPools: [],
  mtu: 1500,
};

const KEYS: Record<string, keyof EngineConfig> = {
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'registryMirrors',
  'allow-nondistributable-artifacts': 'allowNondistributableArtifacts',
  'max-concurrent-downloads': 'maxConcurrentDownloads',
  'max-concurrent-uploads': 'maxConcurrentUploads',
  'layer-max-bytes': 'layerMaxBytes',
  'layer-max-entries': 'layerMaxEntries',
  bip: 'bip',
  'default-address-pools': 'defaultAddressPools',
  mtu: 'mtu',
};

export function loadEngineConfig(file = process.env.HULL_DAEMON_CONFIG ?? DEFAULT_CONFIG_FILE): EngineConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !process.env.HULL_DAEMON_CONFIG) return { ...DEFAULTS };
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object`);
  const cfg: EngineConfig = { ...DEFAULTS, registryMirrors: {} };
  for (const [key, value] of Object.entries(raw)) {
    const field = KEYS[key];
    if (!field) throw new Error(`${file}: unknown key "${key}"`);
    const where = `${file}: "${key}"`;
    if (field === 'registryMirrors') {
      // docker's form is a list of mirrors for docker.io; an object maps each registry to its mirrors
      if (Array.isArray(value)) cfg.registryMirrors['docker.io'] = strings(value, where);
      else if (typeof value === 'object' && value !== null) {
        for (const [domain, list] of Object.entries(value)) cfg.registryMirrors[domain] = strings(list, `${where}.${domain}`);
      } else throw new Error(`${where}: expected a list or an object`);
    } else if (field === 'bip') {
      if (typeof value !== 'string' || !/^[0-9.]+\/\d+$/.test(value)) throw new Error(`${where}: expected an IPv4 address with a prefix length, as "172.17.0.1/16"`);
      cfg.bip = value;
    } else if (field === 'defaultAddressPools') {
      if (!Array.isArray(value)) throw new Error(`${where}: expected a list of {"base": "...", "size": N}`);
      cfg.defaultAddressPools = value.map((p, i) => {
        if (typeof p !== 'object' || p === null || typeof p.base !== 'string' || !Number.isSafeInteger(p.size) || p.size < 1 || p.size > 128) {
          throw new Error(`${where}[${i}]: expected {"base": "<subnet>", "size": <prefix length>}`);
        }
        return { base: p.base as string, size: p.size as number };
      });
    } else if (field === 'insecureRegistries' || field === 'allowNondistributableArtifacts') {
      cfg[field] = strings(value, where);
    } else {
      if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new Error(`${where}: expected a positive integer`);
      cfg[field] = value as number;
    }
  }
  return cfg;
}

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new Error(`${where}: expected a list of strings`);
  return value as string[];
}
