import { expect, it } from 'vitest';
import { parseChallenges } from '../../../src/transport/challenge.js';

it.each([
  ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io"', [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io' } }]],
  ['Bearer realm="http://127.0.0.1:1/t",service="reg",scope="repository:a/b:pull,push"', [{ scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/t', service: 'reg', scope: 'repository:a/b:pull,push' } }]],
  ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  ['Bearer realm="r",error="invalid_token"', [{ scheme: 'bearer', params: { realm: 'r', error: 'invalid_token' } }]],
  ['Bearer error=insufficient_scope, realm="r"', [{ scheme: 'bearer', params: { error: 'insufficient_scope', realm: 'r' } }]],
  ['', []],
])('%s', (header, want) => expect(parseChallenges(header)).toEqual(want));
