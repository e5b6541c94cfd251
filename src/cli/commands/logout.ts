// `hull logout [SERVER]`
import { logout } from '../../registry/credentials.ts';
import { write } from '../context.ts';
import { serverDomain } from './login.ts';
import type { Verb } from './verb.ts';

export const logoutVerb: Verb = {
  names: ['logout'],
  define(cmd) {
    cmd.description('Log out from a registry').argument('[server]', 'registry (default: Docker Hub)');
  },
  async run(ctx, args) {
    const server = serverDomain(args[0]);
    const removed = await logout(server, { configDir: ctx.dockerConfigDir() });
    write(removed ? `Removing login credentials for ${server}` : `Not logged in to ${server}`);
  },
};
