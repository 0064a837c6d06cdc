// Import cycles (`npm run lint:cycles`), type-only imports included. ESLint's
// import-x/no-cycle, like import/no-cycle, always skips `import type` edges and
// has no option to count them, so this runs dependency-cruiser on the TypeScript
// sources before compilation (tsPreCompilationDeps), where every import is an
// edge; tsConfig makes it resolve `./x.js` to x.ts as tsc does. dependency-
// cruiser 17 is the last major that runs on Node 20 (18 needs Node 22).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'lib/ is layered one way (see eslint.config.mjs); a cycle, even of types only, breaks the layering.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
