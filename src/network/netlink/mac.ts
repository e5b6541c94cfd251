// Link-layer (MAC) addresses: "02:42:ac:11:00:02" <-> bytes.

/** Six colon-separated hex octets; throws `invalid MAC address: "<text>"` otherwise. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`invalid MAC address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** Lower-case hex octets joined by colons (any length: a link's address need not be 6 bytes). */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
