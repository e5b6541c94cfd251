// Docker's size notation, shared by the CLI's flags and the engine's options (log max-size).

/** Parses docker's size flags: "10m", "1.5g", "512k", "100" (bytes); binary units, as RAMInBytes. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid size: '${text}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as '' | 'k'];
  return Math.floor(Number(m[1]) * mult);
}
