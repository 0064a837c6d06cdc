// Prints the @nestjs/* releases that .ci/test-nest-versions.sh installs for
// one end of the supported range, one `name@version` a line:
//
//   node .ci/nest-versions.mjs oldest   # each package's oldest minor, at its newest patch
//   node .ci/nest-versions.mjs newest   # each package's newest release
//
// The packages are the @nestjs/* peer dependencies, in the ranges that
// package.json gives them, and the dev-only companions released with them,
// which must move with them (below). The registry is asked each time, so a new
// minor is tested the day it is published.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** Dev-only packages that ship with a peer, each with the peer whose major they follow. */
const COMPANIONS = {
  '@nestjs/testing': '@nestjs/core', // builds every test app: nestjs/nest, as core
  '@nestjs/platform-ws': '@nestjs/websockets', // the WebSocket adapter of the gateway tests: nestjs/nest
  '@nestjs/apollo': '@nestjs/graphql', // the GraphQL drivers: nestjs/graphql, as @nestjs/graphql
  '@nestjs/mercurius': '@nestjs/graphql',
};

const end = process.argv[2];
if (end !== 'oldest' && end !== 'newest') {
  console.error('usage: node .ci/nest-versions.mjs oldest|newest');
  process.exit(2);
}

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const ranges = Object.entries(pkg.peerDependencies).filter(([name]) => name.startsWith('@nestjs/'));
for (const [name, peer] of Object.entries(COMPANIONS)) {
  // The peer's range, whose major the companion shares: `^12.0.0` for @nestjs/testing.
  ranges.push([name, pkg.peerDependencies[peer]]);
}

const parse = (version) => version.split('.').map(Number);
const byVersion = (a, b) => {
  const [x, y] = [parse(a), parse(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

/** The releases of `name` in `range`, oldest first, without prereleases. */
async function releases(name, range) {
  const { stdout } = await promisify(execFile)('npm', ['view', `${name}@${range}`, 'version', '--json']);
  const found = stdout.trim() ? [JSON.parse(stdout)].flat() : [];
  const versions = found.filter((version) => /^\d+\.\d+\.\d+$/.test(version)).sort(byVersion);
  if (versions.length === 0) throw new Error(`no release of ${name} in ${range}`);
  return versions;
}

const picked = await Promise.all(
  ranges.map(async ([name, range]) => {
    const versions = await releases(name, range);
    if (end === 'newest') return `${name}@${versions.at(-1)}`;
    // The newest patch of the oldest minor: x.y.0 is sometimes broken (@nestjs/core
    // 12.0.0 declares peers on common ^11), and its own patches fix it.
    const [major, minor] = parse(versions[0]);
    const oldestMinor = versions.filter((version) => parse(version)[0] === major && parse(version)[1] === minor);
    return `${name}@${oldestMinor.at(-1)}`;
  }),
);
console.log(picked.join('\n'));
