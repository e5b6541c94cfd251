// The engine's check of a new container's published ports (what an API body may hold that the
// CLI's parser never lets through): each bad one is refused at create, naming the port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container } from '../../src/engine/containers/model.ts';
import { checkPublishedPorts } from '../../src/engine/networks/ports.ts';

function container(bindings: Record<string, { HostIp: string; HostPort: string }[]>, exposed: string[] = [], all = false): Pick<Container, 'Config' | 'HostConfig'> {
  return {
    Config: { ExposedPorts: Object.fromEntries(exposed.map((k) => [k, {}])) } as Container['Config'],
    HostConfig: { PortBindings: bindings, PublishAllPorts: all } as Container['HostConfig'],
  };
}

test('good bindings and -P pass', () => {
  checkPublishedPorts(container({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '5300-5310' }] }));
  checkPublishedPorts(container({}, ['80/tcp', '9000'], true));
});

test('bad container ports, host ports, host addresses and protocols are refused', () => {
  const bad: [Record<string, { HostIp: string; HostPort: string }[]>, RegExp][] = [
    [{ '0/tcp': [] }, /invalid port specification: "0\/tcp"/],
    [{ '70000/tcp': [] }, /invalid port specification: "70000\/tcp"/],
    [{ 'http/tcp': [] }, /invalid port specification/],
    [{ '80/tcp': [{ HostIp: '', HostPort: '0' }] }, /invalid host port "0" for port 80\/tcp/],
    [{ '80/tcp': [{ HostIp: '', HostPort: '9-8' }] }, /invalid host port "9-8"/],
    [{ '80/tcp': [{ HostIp: '', HostPort: '65536' }] }, /invalid host port "65536"/],
    [{ '80/tcp': [{ HostIp: 'example.com', HostPort: '80' }] }, /invalid host IP address "example.com"/],
    [{ '80/sctp': [] }, /publishing sctp ports is not supported/],
  ];
  for (const [bindings, message] of bad) assert.throws(() => checkPublishedPorts(container(bindings)), message, JSON.stringify(bindings));
});
