// Every `hull` verb, in the order `hull --help` lists them.
import type { Verb } from './verb.ts';
import { images } from './images.ts';
import { imageBase } from './image-base.ts';
import { imageInspect } from './image-inspect.ts';
import { imagePrune } from './image-prune.ts';
import { history } from './history.ts';
import { loginVerb } from './login.ts';
import { logoutVerb } from './logout.ts';
import { pull } from './pull.ts';
import { push } from './push.ts';
import { rmi } from './rmi.ts';
import { save } from './save.ts';
import { load } from './load.ts';
import { imageImport } from './import.ts';
import { systemDf } from './system-df.ts';
import { tag } from './tag.ts';

export type { Verb };

export const verbs: Verb[] = [pull, push, loginVerb, logoutVerb, images, tag, rmi, imageInspect, history, imagePrune, save, load, imageImport, imageBase, systemDf];
