// Every `hull` verb, in the order `hull --help` lists them. Each verb's module is loaded only
// when it runs: a container start should not pay for evaluating the registry client or progress bars.
import type { Verb } from './verb.ts';

export type { Verb };

export interface VerbEntry {
  /** As the verb's own `names`: the router picks the module before loading it. */
  names: string[];
  load(): Promise<Verb | Verb[]>;
}

export const verbs: VerbEntry[] = [
  { names: ['run', 'container run'], load: async () => (await import('./run.ts')).run },
  { names: ['create', 'container create'], load: async () => (await import('./create.ts')).create },
  { names: ['start', 'container start'], load: async () => (await import('./start.ts')).start },
  { names: ['stop', 'container stop'], load: async () => (await import('./stop.ts')).stop },
  { names: ['restart', 'container restart'], load: async () => (await import('./restart.ts')).restart },
  { names: ['kill', 'container kill'], load: async () => (await import('./kill.ts')).kill },
  { names: ['rm', 'container rm', 'container remove'], load: async () => (await import('./rm.ts')).rm },
  { names: ['ps', 'container ls', 'container list'], load: async () => (await import('./ps.ts')).ps },
  { names: ['wait', 'container wait'], load: async () => (await import('./wait.ts')).wait },
  { names: ['inspect', 'container inspect'], load: async () => { const m = await import('./inspect.ts'); return [m.inspect, m.containerInspect]; } },
  { names: ['logs', 'container logs'], load: async () => (await import('./logs.ts')).logs },
  { names: ['attach', 'container attach'], load: async () => (await import('./attach.ts')).attach },
  { names: ['exec', 'container exec'], load: async () => (await import('./exec.ts')).exec },
  { names: ['cp', 'container cp'], load: async () => (await import('./cp.ts')).cp },
  { names: ['diff', 'container diff'], load: async () => (await import('./diff.ts')).diff },
  { names: ['commit', 'container commit'], load: async () => (await import('./commit.ts')).commit },
  { names: ['export', 'container export'], load: async () => (await import('./export.ts')).containerExport },
  { names: ['top', 'container top'], load: async () => (await import('./top.ts')).top },
  { names: ['port', 'container port'], load: async () => (await import('./port.ts')).port },
  { names: ['stats', 'container stats'], load: async () => (await import('./stats.ts')).stats },
  { names: ['pause', 'container pause'], load: async () => (await import('./pause.ts')).pause },
  { names: ['unpause', 'container unpause'], load: async () => (await import('./unpause.ts')).unpause },
  { names: ['update', 'container update'], load: async () => (await import('./update.ts')).update },
  { names: ['rename', 'container rename'], load: async () => (await import('./rename.ts')).rename },
  { names: ['container prune'], load: async () => (await import('./container-prune.ts')).containerPrune },
  { names: ['container cleanup'], load: async () => (await import('./container-cleanup.ts')).containerCleanup },
  { names: ['container healthcheck'], load: async () => (await import('./container-healthcheck.ts')).containerHealthcheck },
  { names: ['pull', 'image pull'], load: async () => (await import('./pull.ts')).pull },
  { names: ['push', 'image push'], load: async () => (await import('./push.ts')).push },
  { names: ['login'], load: async () => (await import('./login.ts')).loginVerb },
  { names: ['logout'], load: async () => (await import('./logout.ts')).logoutVerb },
  { names: ['images', 'image ls', 'image list'], load: async () => (await import('./images.ts')).images },
  { names: ['tag', 'image tag'], load: async () => (await import('./tag.ts')).tag },
  { names: ['rmi', 'image rm', 'image remove'], load: async () => (await import('./rmi.ts')).rmi },
  { names: ['image inspect'], load: async () => (await import('./inspect.ts')).imageInspect },
  { names: ['history', 'image history'], load: async () => (await import('./history.ts')).history },
  { names: ['image prune'], load: async () => (await import('./image-prune.ts')).imagePrune },
  { names: ['save', 'image save'], load: async () => (await import('./save.ts')).save },
  { names: ['load', 'image load'], load: async () => (await import('./load.ts')).load },
  { names: ['import', 'image import'], load: async () => (await import('./import.ts')).imageImport },
  { names: ['image base'], load: async () => (await import('./image-base.ts')).imageBase },
  { names: ['volume create'], load: async () => (await import('./volume-create.ts')).volumeCreate },
  { names: ['volume ls', 'volume list'], load: async () => (await import('./volume-ls.ts')).volumeLs },
  { names: ['volume inspect'], load: async () => (await import('./volume-inspect.ts')).volumeInspect },
  { names: ['volume rm', 'volume remove'], load: async () => (await import('./volume-rm.ts')).volumeRm },
  { names: ['volume prune'], load: async () => (await import('./volume-prune.ts')).volumePrune },
  { names: ['network create'], load: async () => (await import('./network-create.ts')).networkCreate },
  { names: ['network ls', 'network list'], load: async () => (await import('./network-ls.ts')).networkLs },
  { names: ['network inspect'], load: async () => (await import('./network-inspect.ts')).networkInspect },
  { names: ['network rm', 'network remove'], load: async () => (await import('./network-rm.ts')).networkRm },
  { names: ['network prune'], load: async () => (await import('./network-prune.ts')).networkPrune },
  { names: ['network connect'], load: async () => (await import('./network-connect.ts')).networkConnect },
  { names: ['network disconnect'], load: async () => (await import('./network-disconnect.ts')).networkDisconnect },
  { names: ['system df'], load: async () => (await import('./system-df.ts')).systemDf },
  { names: ['system prune'], load: async () => (await import('./system-prune.ts')).systemPruneVerb },
  { names: ['system reset'], load: async () => (await import('./system-reset.ts')).systemResetVerb },
  { names: ['info', 'system info'], load: async () => (await import('./system-info.ts')).systemInfoVerb },
  { names: ['version'], load: async () => (await import('./version.ts')).version },
];
