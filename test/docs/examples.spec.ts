import { allExamples, type Example, extractExamples, FRAGMENT_MARKER, typeCheck } from './examples.js';

/**
 * Every complete TypeScript example of README.md, CONTRIBUTING.md and
 * docs/*.md compiles against lib/, so the docs cannot drift from the code.
 * Blocks marked as fragments are skipped.
 */
const examples = allExamples();
const complete = examples.filter((example) => !example.fragment);

/** An example that no longer compiles, checked in the same program, to prove the check can fail. */
const broken = extractExamples(
  'broken.md',
  [
    '```ts',
    "import type { BackgroundTasks } from 'nestjs-background-tasks';",
    'declare const tasks: BackgroundTasks;',
    "tasks.addTask((id: number) => id, 'not a number');",
    '```',
  ].join('\n'),
);

describe('the examples of the docs', () => {
  let errors: Map<string, string[]>;

  beforeAll(() => {
    errors = typeCheck([...complete, ...broken]);
  }, 120_000);

  it('are found, and the fragments are marked', () => {
    expect(complete.length).toBeGreaterThanOrEqual(15);
    expect(new Set(complete.map((example) => example.doc))).toEqual(
      new Set([
        'README.md',
        'docs/semantics.md',
        'docs/transports.md',
        'docs/production.md',
        'docs/graphql.md',
        'docs/bullmq.md',
        'docs/threads.md',
        'docs/testing.md',
        'docs/transactions.md',
      ]),
    );
    expect(examples.length - complete.length).toBeGreaterThan(0);
  });

  it('reports an example that does not compile, at its line in the Markdown', () => {
    expect(errors.get(broken[0].fileName)).toEqual([
      expect.stringMatching(/^broken\.md:4:35 TS2345 Argument of type '\["not a number"\]' is not assignable/),
    ]);
  });

  it.each(complete.map((example): [string, Example] => [`${example.doc}:${example.line} (${example.fileName})`, example]))(
    '%s compiles',
    (_where, example) => {
      const found = errors.get(example.fileName)!;
      if (found.length) {
        throw new Error(
          `${found.join('\n')}\n\nFix the example, or, if it is not meant to be complete, put ${FRAGMENT_MARKER} on the line before its fence.`,
        );
      }
    },
  );
});
