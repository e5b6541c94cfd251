import { InvalidArgumentError } from 'commander';

export function uint(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(v);
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}
