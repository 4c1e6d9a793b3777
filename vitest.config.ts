import { defineConfig } from 'vitest/config';

/**
 * Two projects, so a failure names its registry backend:
 * - `docker-registry`: every test, with the client suites against Debian's docker-registry;
 * - `builtin-registry`: the client suites (test/integration) again, against ts-docker's own
 *   `registry serve` (TS_DOCKER_TEST_REGISTRY=builtin, read by test/helpers/registry.ts), except
 *   the harness self-test, which tests docker-registry itself (its log lines, REGISTRY_*
 *   overrides, relativeurls, its storage layout, 2.8.2 dropping a session after a cut PATCH).
 *   The htpasswd suites of test/auth (login, credential helpers, redirects) run against it too;
 *   token auth and mutual TLS are not in the built-in registry, so those stay on docker-registry.
 * `npx vitest run --project builtin-registry` runs only the second.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'docker-registry',
          include: ['test/**/*.test.ts'],
          env: { TS_DOCKER_TEST_REGISTRY: 'docker-registry' },
        },
      },
      {
        extends: true,
        test: {
          name: 'builtin-registry',
          include: ['test/integration/*.test.ts', 'test/auth/{htpasswd,cred-helper,redirect}.test.ts'],
          exclude: ['test/integration/harness.test.ts'],
          env: { TS_DOCKER_TEST_REGISTRY: 'builtin' },
        },
      },
    ],
  },
});
