// @ts-check
// Lint rules, kept close to the @nestjs/* repos: ESLint's and typescript-eslint's
// recommended sets, formatting left to Prettier (eslint-config-prettier turns off
// the rules it would fight; `npm run lint` runs `prettier --check` on its own).
// On top: the one-way layering of lib/ (import-x/no-restricted-paths, below).
// Import cycles, type-only ones included, are checked by dependency-cruiser
// (.dependency-cruiser.cjs), as import-x/no-cycle always skips `import type`.
import eslint from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier/flat';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// ---- The layers of lib/, bottom to top --------------------------------------
// Each may import the layers below it, never one above, nor a sibling where said.
// Paths are relative to this file; a folder stands for everything under it.
const LEAVES = [
  './lib/utils',
  './lib/interfaces',
  './lib/background-tasks.constants.ts',
  './lib/background-tasks.messages.ts',
  './lib/background-tasks.module-definition.ts',
  './lib/exceptions',
  // Adapters of the frameworks' internals: one file each, pinned by tests against the real packages.
  './lib/internals',
];
// Thread tasks' handles and their worker-thread pool, which the core runs them in. Each
// worker thread loads the handle's file with a thread module: it knows nothing of tasks.
const THREADS = './lib/threads';
const CORE = './lib/core';
// Observers of the core, which only the glue loads: the OpenTelemetry adapter, with its optional peer.
const OBSERVERS = ['./lib/opentelemetry'];
const TRANSPORTS = ['./lib/http', './lib/graphql', './lib/microservices', './lib/websockets'];
const GLUE = ['./lib/providers', './lib/request-scope', './lib/interceptor', './lib/decorators', './lib/terminus'];
const MODULES = './lib/*.module.ts';
// Integrations that are modules of their own (the BullMQ backend imports BackgroundTasksModule).
const INTEGRATIONS = ['./lib/bullmq'];
const INDEX = './lib/index.ts';

/** `except` of a zone whose `from` is ./lib: the given paths, relative to ./lib. */
const underLib = (paths) => paths.map((p) => p.replace(/^\.\/lib\//, './'));

const layering = [
  {
    target: LEAVES,
    from: './lib',
    except: underLib(LEAVES),
    message: 'Leaves (utils, interfaces, exceptions, internals, constants, messages, module definition) import only each other.',
  },
  {
    target: THREADS,
    from: './lib',
    except: underLib([...LEAVES, THREADS]),
    message: 'The thread pool and handles import only themselves and the leaves: each worker thread loads them.',
  },
  {
    target: CORE,
    from: './lib',
    except: underLib([...LEAVES, THREADS, CORE]),
    message: 'The core imports only itself, the threads and the leaves: never a transport, the glue, the module or the index.',
  },
  {
    target: OBSERVERS,
    from: './lib',
    except: underLib([...LEAVES, CORE, ...OBSERVERS]),
    message: 'An observer (opentelemetry) imports only itself, the core and the leaves; the glue loads it.',
  },
  ...TRANSPORTS.map((transport) => ({
    target: transport,
    from: TRANSPORTS.filter((other) => other !== transport).concat(GLUE, OBSERVERS),
    message: 'A transport imports the leaves and the core: not another transport, the glue, nor an observer.',
  })),
  {
    // Separate zone: a zone's `from` is either all globs or no glob.
    target: [...TRANSPORTS, ...GLUE],
    from: MODULES,
    message: 'Transports and glue do not import the module: it imports them.',
  },
  {
    target: [...TRANSPORTS, ...GLUE, MODULES],
    from: INTEGRATIONS,
    message: 'Nothing but the index files imports an integration module: apps without its package load nothing of it.',
  },
  {
    target: './lib',
    from: INDEX,
    message: 'Nothing in lib/ imports lib/index.ts: it is only the public entry point.',
  },
];

export default defineConfig(
  globalIgnores(['dist/', 'dist-sample/', 'coverage/']),

  eslint.configs.recommended,
  {
    // Type-aware, as in the @nestjs/* repos: about 3x the CPU of the plain set,
    // still well under a minute for the whole tree on two cores.
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    languageOptions: {
      globals: globals.node,
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'warn',
      // Nest idioms that stricter sets reject (no-extraneous-class for @Module()
      // classes, no-empty-function for lifecycle hooks) are not in the recommended
      // sets, so nothing needs turning off for them here.
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    files: ['test/**'],
    languageOptions: {
      globals: globals.jest,
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests name handlers by their prototype's methods, to read their metadata.
      '@typescript-eslint/unbound-method': 'off',
      // Tests poke at untyped things (response bodies, spies, caught values) on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Tasks are async without awaiting to test the async path; tasks throw and
      // reject with non-Errors to test how those are reported.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      // Tasks in tests declare parameters to exercise addTask's typing, used or not.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    // Type tests: each `@ts-expect-error` has its reason on the line above.
    files: ['test/types/**'],
    rules: {
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-expect-error': false }],
    },
  },

  // ---- The layering of lib/ ---------------------------------------------------
  {
    files: ['lib/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Resolves `../core/task-runner.js` to the .ts source, as tsc does.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layering }],
    },
  },

  prettier,
);
