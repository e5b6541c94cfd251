import { getSystemErrorMessage, getSystemErrorName } from 'node:util';

/** "ENOENT (no such file or directory)" for a positive errno from hull-init. */
export function describeErrno(errno: number): string {
  try {
    return `${getSystemErrorMessage(-errno)}`;
  } catch {
    return `errno ${errno}`;
  }
}

export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}
