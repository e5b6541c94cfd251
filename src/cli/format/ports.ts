// docker's PORTS column (DisplayablePorts): "0.0.0.0:8080->80/tcp, :::8080->80/tcp", runs of
// consecutive ports folded into ranges ("0.0.0.0:8000-8002->80-82/tcp"), and an exposed port
// that is not published as just "80/tcp".

export type PortMapView = Record<string, { HostIp: string; HostPort: string }[] | null>;

interface Entry {
  ip: string;
  hostPort: number;
  port: number;
  proto: string;
}

function hostText(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

export function displayPorts(ports: PortMapView | null, exposed: Record<string, unknown> = {}): string {
  const entries: Entry[] = [];
  const keys = new Set([...Object.keys(exposed), ...Object.keys(ports ?? {})]);
  for (const key of keys) {
    const [num, proto = 'tcp'] = key.split('/');
    const bindings = ports?.[key] ?? [];
    if (!bindings.length) entries.push({ ip: '', hostPort: 0, port: Number(num), proto });
    for (const b of bindings) entries.push({ ip: b.HostIp, hostPort: Number(b.HostPort), port: Number(num), proto });
  }
  // docker groups by address and protocol, then folds consecutive pairs
  entries.sort((a, b) => a.ip.localeCompare(b.ip) || a.proto.localeCompare(b.proto) || a.port - b.port);
  const out: string[] = [];
  for (let i = 0; i < entries.length;) {
    const first = entries[i]!;
    let j = i;
    while (j + 1 < entries.length) {
      const n = entries[j + 1]!;
      const cur = entries[j]!;
      if (n.ip !== first.ip || n.proto !== first.proto || n.port !== cur.port + 1) break;
      if (first.hostPort ? n.hostPort !== cur.hostPort + 1 : n.hostPort !== 0) break;
      j++;
    }
    const lastE = entries[j]!;
    const ports = first.port === lastE.port ? `${first.port}` : `${first.port}-${lastE.port}`;
    if (!first.hostPort) out.push(`${ports}/${first.proto}`);
    else {
      const host = first.hostPort === lastE.hostPort ? `${first.hostPort}` : `${first.hostPort}-${lastE.hostPort}`;
      out.push(`${first.ip === '::' ? '::' : hostText(first.ip)}:${host}->${ports}/${first.proto}`);
    }
    i = j + 1;
  }
  return out.join(', ');
}
