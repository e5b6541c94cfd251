// Random container names in docker's adjective_name form, from hull's own word lists.
import { randomInt } from '../../crypto.ts';

const ADJECTIVES = [
  'agile', 'amber', 'ample', 'brave', 'bright', 'brisk', 'calm', 'candid', 'clever', 'cosmic', 'crisp', 'curious',
  'daring', 'dapper', 'eager', 'earnest', 'elated', 'epic', 'fair', 'fancy', 'fervent', 'fond', 'frosty', 'gallant',
  'gentle', 'glad', 'golden', 'happy', 'hardy', 'hearty', 'humble', 'jolly', 'jovial', 'keen', 'kind', 'lively',
  'loyal', 'lucid', 'lucky', 'mellow', 'merry', 'mighty', 'modest', 'nimble', 'noble', 'patient', 'placid', 'plucky',
  'polite', 'proud', 'quick', 'quiet', 'rapid', 'ready', 'serene', 'sharp', 'shiny', 'silent', 'snowy', 'solid',
  'spry', 'steady', 'stoic', 'sunny', 'swift', 'tender', 'tidy', 'upbeat', 'vivid', 'warm', 'wise', 'witty', 'zealous',
];

// People who shaped computing and science.
const NAMES = [
  'allen', 'babbage', 'backus', 'bardeen', 'bell', 'bohr', 'boole', 'cerf', 'church', 'codd', 'conway', 'curie',
  'dijkstra', 'einstein', 'euler', 'faraday', 'fermat', 'feynman', 'franklin', 'gauss', 'goldberg', 'hamilton',
  'hawking', 'hopper', 'huffman', 'hypatia', 'kahn', 'kepler', 'knuth', 'lamport', 'liskov', 'lovelace', 'maxwell',
  'mccarthy', 'meitner', 'minsky', 'moore', 'newton', 'noether', 'pascal', 'perlman', 'pike', 'planck', 'ramanujan',
  'ritchie', 'shannon', 'sinoussi', 'thompson', 'torvalds', 'turing', 'vonneumann', 'wilkes', 'wirth', 'wozniak',
];

export function randomName(withNumber = false): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
  return withNumber ? `${name}${randomInt(10)}` : name;
}
