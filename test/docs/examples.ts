/**
 * Finds the TypeScript examples of the Markdown docs and type-checks them,
 * so that the docs cannot drift from the library. See "Examples in the docs"
 * in CONTRIBUTING.md for the conventions.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const root = join(import.meta.dirname, '../..');

/** Where the examples are compiled: beside the stubs of the app code they import (`./mailer.js`, …). */
export const appDir = join(import.meta.dirname, 'app');

/** The line right before a ```ts fence that marks its block as a fragment, which is not compiled. */
export const FRAGMENT_MARKER = '<!-- fragment -->';

/** The Markdown files whose examples are checked. */
export function markdownFiles(): string[] {
  const docs = join(root, 'docs');
  const files = ['README.md', 'CONTRIBUTING.md'].map((file) => join(root, file)).filter((file) => existsSync(file));
  if (existsSync(docs)) {
    files.push(
      ...readdirSync(docs)
        .filter((file) => file.endsWith('.md'))
        .sort()
        .map((file) => join(docs, file)),
    );
  }
  return files;
}

/** One module of an example: a whole ```ts block, or the part of it under a `// name.ts` line. */
export interface Example {
  /** The Markdown file, relative to the repository root. */
  readonly doc: string;
  /** 1-based line, in the Markdown file, of the example's first line of code. */
  readonly line: number;
  /** The file name it is compiled as, in `appDir`. */
  readonly fileName: string;
  readonly code: string;
  readonly fragment: boolean;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const FILE_NAME_LINE = /^\/\/ ([\w.-]+\.ts)$/;

/**
 * The TypeScript blocks of one Markdown text. A block is split into modules
 * at lines such as `// users.controller.ts`, which also name them, so that a
 * later module can import an earlier one (`./users.controller.js`).
 */
export function extractExamples(doc: string, markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, language] = open;
    let end = i + 1;
    while (
      end < lines.length &&
      !(lines[end].trim().startsWith(fence[0].repeat(fence.length)) && lines[end].trim().replace(/[`~]/g, '') === '')
    ) {
      end++;
    }
    if (language === 'ts' || language === 'typescript') {
      const fragment = lines[i - 1]?.trim() === FRAGMENT_MARKER;
      const body = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
      let start = 0;
      let fileName = `${doc.replace(/\W+/g, '-').toLowerCase()}-${i + 2}.ts`;
      const flush = (stop: number) => {
        const code = body.slice(start, stop).join('\n');
        if (code.trim()) examples.push({ doc, line: i + 2 + start, fileName, code: `${code}\n`, fragment });
      };
      body.forEach((line, index) => {
        const named = FILE_NAME_LINE.exec(line);
        if (!named) return;
        flush(index);
        start = index;
        fileName = named[1];
      });
      flush(body.length);
    }
    i = end;
  }
  return examples;
}

/** Every example of every Markdown file of `markdownFiles()`. */
export function allExamples(): Example[] {
  return markdownFiles().flatMap((file) => extractExamples(relative(root, file), readFileSync(file, 'utf8')));
}

/**
 * Type-checks the given examples as modules of one program, under the
 * repository's tsconfig.json (which maps `nestjs-background-tasks` to
 * `lib/index.ts`). Returns the errors of each example's file, by file name.
 */
export function typeCheck(examples: readonly Example[]): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  )!;
  // Every block is a module of its own, even one without import or export.
  const options: ts.CompilerOptions = { ...config.options, noEmit: true, moduleDetection: ts.ModuleDetectionKind.Force };

  const sources = new Map<string, Example>();
  for (const example of examples) {
    const path = join(appDir, example.fileName);
    const clash = sources.get(path);
    if (clash)
      throw new Error(`${example.doc}:${example.line} and ${clash.doc}:${clash.line} are both named ${example.fileName}.`);
    if (existsSync(path))
      throw new Error(`${example.doc}:${example.line} is named ${example.fileName}, like a stub in ${relative(root, appDir)}.`);
    sources.set(path, example);
  }

  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => sources.has(path) || fileExists.call(host, path);
  host.readFile = (path) => sources.get(path)?.code ?? readFile.call(host, path);
  host.getSourceFile = (path, languageVersion, ...rest) => {
    const example = sources.get(path);
    return example
      ? ts.createSourceFile(path, example.code, languageVersion, true)
      : getSourceFile.call(host, path, languageVersion, ...rest);
  };

  const program = ts.createProgram({ rootNames: [...sources.keys()], options, host });
  const errors = new Map<string, string[]>(examples.map((example) => [example.fileName, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const example = diagnostic.file && sources.get(diagnostic.file.fileName);
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!example) {
      // An error outside the examples (a stub, the options) fails all of them.
      const where = diagnostic.file ? `${relative(root, diagnostic.file.fileName)}: ` : '';
      for (const list of errors.values()) list.push(`${where}TS${diagnostic.code} ${message}`);
      continue;
    }
    const { line, character } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    errors.get(example.fileName)!.push(`${example.doc}:${example.line + line}:${character + 1} TS${diagnostic.code} ${message}`);
  }
  return errors;
}
