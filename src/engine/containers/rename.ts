// `rename`: a new name for a container, running or not, with docker's checks and messages. Like
// docker, the hostname stays what it was (it was the short id or --hostname, never the name).
import type { ContainerEnv } from './lifecycle.ts';
import { checkName } from './store.ts';

export function renameContainer(env: ContainerEnv, oldName: string, newName: string): void {
  if (oldName === '' || newName === '') throw new Error('Neither old nor new names may be empty');
  const wanted = newName.startsWith('/') ? newName : `/${newName}`;
  const c = env.containers.find(oldName);
  if (`/${c.Name}` === wanted) throw new Error('Renaming a container with the same name as its current name');
  let name: string;
  try {
    name = checkName(wanted);
  } catch (e) {
    throw new Error(`Error when allocating new name: ${(e as Error).message}`);
  }
  env.containers.rename(c.Id, name);
}
