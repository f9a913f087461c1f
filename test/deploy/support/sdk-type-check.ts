import { join } from 'node:path';
import ts from 'typescript';

const REPO = join(import.meta.dirname, '../../..');

/**
 * Type-checks a JSON value against a type a package exports, with the TypeScript compiler: the
 * value is written as an object literal that `satisfies` the type, so literal unions (e.g. ECS's
 * `"awsvpc"`) are checked and an unknown or misspelt key is an excess-property error. Returns the
 * compiler's messages; none means the value is a valid input of that type.
 */
export function typeErrorsAgainst(value: unknown, typeName: string, moduleName: string): string[] {
  const file = join(REPO, `__type_check_${typeName}.ts`);
  const source = `import type { ${typeName} } from ${JSON.stringify(moduleName)};\nexport const value = ${JSON.stringify(value, null, 2)} satisfies ${typeName};\n`;
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
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}
