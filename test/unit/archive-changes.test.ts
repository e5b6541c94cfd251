// docker's --change dialect: which instructions are allowed, how each one's words are parsed
// and expanded, and the errors for the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, ChangeError, expandWord } from '../../src/engine/archive/changes.ts';

test('CMD and ENTRYPOINT take the JSON form as is and wrap the shell form in /bin/sh -c', () => {
  assert.deepEqual(applyChanges({}, ['CMD ["echo", "a b"]']).Cmd, ['echo', 'a b']);
  assert.deepEqual(applyChanges({}, ['CMD echo $HOME "x"']).Cmd, ['/bin/sh', '-c', 'echo $HOME "x"']);
  assert.deepEqual(applyChanges({}, ['entrypoint ["/bin/app"]']).Entrypoint, ['/bin/app']);
  // a string that only looks like JSON is the shell form
  assert.deepEqual(applyChanges({}, ['CMD [not json']).Cmd, ['/bin/sh', '-c', '[not json']);
  assert.deepEqual(applyChanges({}, ['CMD []']).Cmd, []);
});

test('an ENTRYPOINT drops the inherited CMD unless a CMD came first', () => {
  assert.equal(applyChanges({ Cmd: ['sh'] }, ['ENTRYPOINT ["/e"]']).Cmd, undefined);
  assert.deepEqual(applyChanges({ Cmd: ['sh'] }, ['CMD ["x"]', 'ENTRYPOINT ["/e"]']).Cmd, ['x']);
});

test('ENV: name=value pairs with quotes, the legacy "name value" form, expansion against earlier values, replacement', () => {
  const c = applyChanges({ Env: ['PATH=/bin'] }, ['ENV A=1 B="two words" C=\'$A\'', 'ENV D $A-${B}', 'ENV PATH=/usr/bin:$PATH', 'ENV E=${UNSET:-dflt} F=${A:+set}']);
  assert.deepEqual(c.Env, ['PATH=/usr/bin:/bin', 'A=1', 'B=two words', 'C=$A', 'D=1-two words', 'E=dflt', 'F=set']);
  // within one ENV line, expansions see the environment from before the line
  assert.deepEqual(applyChanges({}, ['ENV X=1 Y=$X']).Env, ['X=1', 'Y=']);
  assert.deepEqual(applyChanges({}, ['ENV G=a\\ b H="q\\"uote"']).Env, ['G=a b', 'H=q"uote']);
});

test('LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, ONBUILD', () => {
  const c = applyChanges({}, [
    'ENV PORT=8080 DIR=/srv',
    'LABEL a=b "with space"="v 1" port=$PORT',
    'EXPOSE 80 $PORT/udp 9000-9002/TCP',
    'VOLUME /data $DIR',
    'VOLUME ["/json vol"]',
    'USER nobody:nogroup',
    'WORKDIR $DIR',
    'WORKDIR app/../sub/',
    'STOPSIGNAL SIGINT',
    'ONBUILD RUN make install',
  ]);
  assert.deepEqual(c.Labels, { a: 'b', 'with space': 'v 1', port: '8080' });
  assert.deepEqual(Object.keys(c.ExposedPorts!).sort(), ['80/tcp', '8080/udp', '9000/tcp', '9001/tcp', '9002/tcp']);
  assert.deepEqual(Object.keys(c.Volumes!).sort(), ['/data', '/json vol', '/srv']);
  assert.equal(c.User, 'nobody:nogroup');
  assert.equal(c.WorkingDir, '/srv/sub');
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.OnBuild, ['RUN make install']);
  assert.equal(applyChanges({}, ['STOPSIGNAL 9']).StopSignal, '9');
  assert.equal(applyChanges({}, ['STOPSIGNAL RTMIN+3']).StopSignal, 'RTMIN+3');
});

test('HEALTHCHECK: flags in nanoseconds, CMD shell and JSON forms, NONE', () => {
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK --interval=1m30s --timeout=500ms --retries=2 CMD curl -f localhost']).Healthcheck, {
    Interval: 90e9,
    Timeout: 500e6,
    Retries: 2,
    Test: ['CMD-SHELL', 'curl -f localhost'],
  });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK CMD ["/check", "-q"]']).Healthcheck, { Test: ['CMD', '/check', '-q'] });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
});

test('several instructions in one change, comments and line continuations', () => {
  const c = applyChanges({}, ['# a comment\nENV A=1\nCMD echo \\\n  continued']);
  assert.deepEqual(c.Env, ['A=1']);
  assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo   continued']);
});

test('the input config is not modified', () => {
  const base = { Env: ['A=1'], Labels: { x: 'y' } };
  applyChanges(base, ['ENV A=2', 'LABEL x=z']);
  assert.deepEqual(base, { Env: ['A=1'], Labels: { x: 'y' } });
});

test('instructions outside docker\'s subset are refused with docker\'s message', () => {
  for (const [change, word] of [['RUN make', 'run'], ['FROM busybox', 'from'], ['COPY a b', 'copy'], ['ADD x y', 'add'], ['SHELL ["/bin/bash"]', 'shell'], ['ARG X', 'arg'], ['MAINTAINER me', 'maintainer'], ['bogus thing', 'bogus']]) {
    assert.throws(() => applyChanges({}, [change!]), (e: unknown) => e instanceof ChangeError && e.message === `${word} is not a valid change command`, change);
  }
});

test('malformed instructions are refused, saying which change and why', () => {
  const cases: [string, RegExp][] = [
    ['ENV', /"ENV" is not a valid change command: ENV requires at least one argument/],
    ['ENV A', /ENV must have two arguments/],
    ['ENV A=1 B', /can't find = in "B"/],
    ['ENV =x', /ENV names can not be blank/],
    ['ENV A="unterminated', /unmatched "/],
    ['LABEL', /LABEL requires at least one argument/],
    ['EXPOSE abc', /"EXPOSE abc" is not a valid change command: invalid containerPort: abc/],
    ['EXPOSE 80/xyz', /invalid proto/],
    ['EXPOSE 70000', /invalid containerPort/],
    ['EXPOSE 90-80', /invalid range/],
    ['VOLUME ""', /VOLUME specified can not be an empty string/],
    ['WORKDIR', /WORKDIR requires exactly one argument/],
    ['USER', /USER requires exactly one argument/],
    ['STOPSIGNAL SIGNOPE', /Invalid signal: SIGNOPE/],
    ['STOPSIGNAL 0', /Invalid signal: 0/],
    ['ONBUILD ONBUILD RUN x', /Chaining ONBUILD/],
    ['ONBUILD FROM x', /FROM isn't allowed as an ONBUILD trigger/],
    ['HEALTHCHECK --interval=1us CMD x', /cannot be less than 1ms/],
    ['HEALTHCHECK --interval=abc CMD x', /invalid duration "abc"/],
    ['HEALTHCHECK --retries=-1 CMD x', /--retries cannot be negative/],
    ['HEALTHCHECK --bogus=1 CMD x', /Unknown flag: bogus/],
    ['HEALTHCHECK RUN x', /Unknown type "RUN" in HEALTHCHECK/],
    ['HEALTHCHECK --interval=1s NONE', /HEALTHCHECK NONE takes no arguments/],
    ['HEALTHCHECK CMD', /Missing command after HEALTHCHECK CMD/],
    ['CMD', /CMD requires at least one argument/],
    ['ENV A=${B', /missing '}'/],
    ['ENV A=${B?required}', /B: required/],
  ];
  for (const [change, re] of cases) {
    assert.throws(() => applyChanges({}, [change]), (e: unknown) => e instanceof ChangeError && re.test(e.message) && /is not a valid change command/.test(e.message), change);
  }
});

test('expandWord: quoting rules of the builder', () => {
  const env = new Map([['A', 'x'], ['E', '']]);
  assert.equal(expandWord(`'$A'"$A"$A\\$A`, env), '$Axx$A');
  assert.equal(expandWord('${E:-d}${E-d}${E:+p}${E+p}', env), 'dp');
  assert.equal(expandWord('"a\\b"', env), 'a\\b');
  assert.equal(expandWord('$', env), '$');
  assert.equal(expandWord('$1', env), '$1');
});
