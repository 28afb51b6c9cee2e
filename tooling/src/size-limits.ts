/**
 * Size limits on source code: no function over `maxFunctionLines` lines, no file over `maxFileLines`.
 * Functions are found with the TypeScript compiler's parser (declarations, methods, accessors,
 * constructors, arrows and function expressions). A file's length is its count of newline
 * characters; a function's length is the number of lines it spans, from its first token to its
 * closing brace (so a nested callback counts in its parent too).
 */
import ts from 'typescript';

export const SIZE_LIMITS = { maxFunctionLines: 80, maxFileLines: 500 } as const;

/** The name a whole-file entry carries in place of a function's name. */
export const WHOLE_FILE = '(file)';

export interface SizeViolation {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  /** Function name (`Class.method`, `outer > inner`, `outer > (callback of call)`) or WHOLE_FILE. */
  function: string;
  lines: number;
}

const SCRIPT_KINDS: Record<string, ts.ScriptKind> = {
  '.ts': ts.ScriptKind.TS,
  '.mts': ts.ScriptKind.TS,
  '.mjs': ts.ScriptKind.JS,
  '.js': ts.ScriptKind.JS,
};

const SOURCE_EXTENSION = /\.(ts|mts|mjs|js)$/;
/** Tests, benchmarks, fixtures and generated code are outside the limits. */
const EXEMPT_PATH = /(^|\/)(test|tests|bench|fixtures|generated|node_modules)\/|\.(test|bench|fixture)\.[cm]?[jt]s$/;

/** Whether a repository path is source the limits apply to. */
export function isLimitedSource(path: string): boolean {
  return SOURCE_EXTENSION.test(path) && !EXEMPT_PATH.test(path) && !path.startsWith('stimuli/sets/');
}

export function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count += 1;
  return count;
}

function propertyName(name: ts.PropertyName | undefined, sourceFile: ts.SourceFile): string | undefined {
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  return name.getText(sourceFile);
}

/** The name a reader would use for a function node, or undefined when it has none of its own. */
function ownName(node: ts.Node, sourceFile: ts.SourceFile): string | undefined {
  if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) {
    if (node.name) return node.name.text;
  }
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
    return propertyName(node.name, sourceFile);
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return propertyName(parent.name, sourceFile);
  }
  if (ts.isCallExpression(parent)) return `(callback of ${calleeName(parent.expression)})`;
  if (ts.isNewExpression(parent)) return `(callback of new ${calleeName(parent.expression)})`;
  return undefined;
}

/** `buildOutputDir` for `buildOutputDir(...)`, `action` for `command.option(...).action(...)`. */
function calleeName(callee: ts.Expression): string {
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return 'expression';
}

function isFunctionNode(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessor(node) ||
    ts.isSetAccessor(node)
  );
}

function spannedLines(node: ts.Node, sourceFile: ts.SourceFile): number {
  const start = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line;
  const end = sourceFile.getLineAndCharacterOfPosition(node.getEnd()).line;
  return end - start + 1;
}

/** Every function in a source text, with its qualified name and length in lines. */
export function measureFunctions(text: string, file: string): SizeViolation[] {
  const extension = SOURCE_EXTENSION.exec(file)?.[0] ?? '.ts';
  const kind = SCRIPT_KINDS[extension] ?? ts.ScriptKind.TS;
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found: SizeViolation[] = [];
  const visit = (node: ts.Node, scope: string[]): void => {
    let inner = scope;
    if (ts.isClassLike(node) && node.name) inner = [...scope, node.name.text];
    if (isFunctionNode(node)) {
      const name = ownName(node, sourceFile) ?? '(anonymous)';
      const member = ts.isClassLike(node.parent) || ts.isPropertyDeclaration(node.parent);
      const qualified = scope.length === 0 ? name : `${scope.join(' > ')}${member ? '.' : ' > '}${name}`;
      found.push({ file, function: qualified, lines: spannedLines(node, sourceFile) });
      inner = [qualified];
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(sourceFile, []);
  return found;
}

/** The functions and the file itself that exceed the limits. */
export function findSizeViolations(text: string, file: string, limits = SIZE_LIMITS): SizeViolation[] {
  const violations = measureFunctions(text, file).filter((f) => f.lines > limits.maxFunctionLines);
  const fileLines = countNewlines(text);
  if (fileLines > limits.maxFileLines) violations.push({ file, function: WHOLE_FILE, lines: fileLines });
  return violations;
}

export interface AllowListVerdict {
  /** Violations not on the list, or longer than the list allows. */
  failures: { violation: SizeViolation; allowed?: number }[];
  /** Entries that no longer match a violation, or allow more lines than needed. */
  loose: { entry: SizeViolation; now?: number }[];
}

const key = (v: SizeViolation): string => `${v.file}\u0000${v.function}`;

/**
 * Compares violations with an allow-list of known ones (file + function + lines): a violation
 * fails when its (file, function) is not listed or when it has grown past the listed lines.
 */
export function checkAllowList(violations: SizeViolation[], allowList: SizeViolation[]): AllowListVerdict {
  const allowed = new Map(allowList.map((entry) => [key(entry), entry.lines]));
  const longest = new Map<string, number>();
  const failures: AllowListVerdict['failures'] = [];
  for (const violation of violations) {
    const k = key(violation);
    longest.set(k, Math.max(longest.get(k) ?? 0, violation.lines));
    const limit = allowed.get(k);
    if (limit === undefined || violation.lines > limit) failures.push({ violation, allowed: limit });
  }
  const loose = allowList
    .filter((entry) => (longest.get(key(entry)) ?? 0) < entry.lines)
    .map((entry) => ({ entry, now: longest.get(key(entry)) }));
  return { failures, loose };
}
