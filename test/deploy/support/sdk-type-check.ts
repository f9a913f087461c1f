import { join } from 'node:path';
import ts from 'typescript';

const REPO = join(import.meta.dirname, '../../..');
/** Parsed declaration files, kept across calls in one test file: parsing the SDK's is the slow part. */
const parsed = new Map<string, ts.SourceFile>();

export interface TypeCheck {
  readonly value: unknown;
  /** An exported type, e.g. `RegisterTaskDefinitionCommandInput`; `Foo[]` checks an array of Foo. */
  readonly type: string;
  readonly module: string;
}

/**
 * Type-checks JSON values against types packages export, with the TypeScript compiler: each value
 * is written as an object literal that `satisfies` its type, so literal unions (e.g. ECS's
 * `"awsvpc"`) are checked and an unknown or misspelt key is an excess-property error. One program
 * for all checks (loading an SDK's declarations is the slow part). Returns the compiler's
 * messages; none means every value is a valid input of its type.
 */
export function typeErrors(checks: readonly TypeCheck[]): string[] {
  const file = join(REPO, '__sdk_type_check__.ts');
  const source = checks
    .map((c, i) => {
      const imported = c.type.replace(/\[\]$/, '');
      return `import type { ${imported} as T${i} } from ${JSON.stringify(c.module)};\nexport const v${i} = ${JSON.stringify(c.value, null, 2)} satisfies T${i}${c.type.endsWith('[]') ? '[]' : ''};\n`;
    })
    .join('');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.readFile = (f) => (f === file ? source : readFile.call(host, f));
  host.getSourceFile = (f, lang, ...rest) => {
    if (f === file) return ts.createSourceFile(f, source, lang);
    const cached = parsed.get(f) ?? getSourceFile.call(host, f, lang, ...rest);
    if (cached !== undefined) parsed.set(f, cached);
    return cached;
  };
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** One value against one type. */
export function typeErrorsAgainst(value: unknown, type: string, module: string): string[] {
  return typeErrors([{ value, type, module }]);
}
