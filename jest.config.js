/** Nest 12 is ESM-only, so Jest runs in ESM mode (see "test:jest" in package.json). */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/lib', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true }],
  },
  moduleNameMapper: {
    '^nestjs-background-tasks$': '<rootDir>/lib/index.ts',
    '^nestjs-background-tasks/terminus$': '<rootDir>/lib/terminus/index.ts',
    '^nestjs-background-tasks/bullmq$': '<rootDir>/lib/bullmq/index.ts',
    '^nestjs-background-tasks/threads$': '<rootDir>/lib/threads/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 20000,
};
