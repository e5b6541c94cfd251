// Leases: what a running operation is making, so that a killed operation's leftovers can be found
// and removed, and two operations never make the same blob or snapshot at once.
import { randomBytes } from '../../crypto.ts';
import { processStart, sameProcess } from '../../sys/proc.ts';
import { transaction, type Db } from './metadata.ts';

export type ResourceKind = 'blob' | 'ingest' | 'snapshot';

export interface Lease {
  id: string;
}

export function createLease(db: Db): Lease {
  const id = randomBytes(8).toString('hex');
  db.prepare('INSERT INTO leases (id, pid, pid_start, created) VALUES (?, ?, ?, ?)').run(
    id,
    process.pid,
    processStart(process.pid) ?? '',
    Date.now(),
  );
  return { id };
}

/**
 * Claims kind/key for this lease. Returns false while another live lease holds it; a claim held by
 * a dead process is taken over (its leftovers are the caller's to redo).
 */
export function claim(db: Db, lease: Lease, kind: ResourceKind, key: string): boolean {
  return transaction(db, () => {
    if (heldByOther(db, kind, key, lease.id)) return false;
    db.prepare('INSERT OR IGNORE INTO lease_resources (lease, kind, key) VALUES (?, ?, ?)').run(lease.id, kind, key);
    return true;
  });
}

export function release(db: Db, lease: Lease, kind: ResourceKind, key: string): void {
  db.prepare('DELETE FROM lease_resources WHERE lease = ? AND kind = ? AND key = ?').run(lease.id, kind, key);
}

export function resourcesOf(db: Db, leaseId: string): { kind: ResourceKind; key: string }[] {
  return db.prepare('SELECT kind, key FROM lease_resources WHERE lease = ?').all(leaseId) as { kind: ResourceKind; key: string }[];
}

export function dropLease(db: Db, leaseId: string): void {
  db.prepare('DELETE FROM leases WHERE id = ?').run(leaseId);
}

/** Leases whose process is gone: a killed pull, push, load or rmi. */
export function deadLeases(db: Db): string[] {
  const rows = db.prepare('SELECT id, pid, pid_start FROM leases').all() as { id: string; pid: number; pid_start: string }[];
  return rows.filter((r) => !sameProcess(r.pid, r.pid_start)).map((r) => r.id);
}

/** True when some live lease other than `except` holds kind/key. */
export function heldByOther(db: Db, kind: ResourceKind, key: string, except?: string): boolean {
  const holders = db
    .prepare('SELECT l.pid, l.pid_start FROM lease_resources r JOIN leases l ON l.id = r.lease WHERE r.kind = ? AND r.key = ? AND r.lease != ?')
    .all(kind, key, except ?? '') as { pid: number; pid_start: string }[];
  return holders.some((h) => sameProcess(h.pid, h.pid_start));
}
