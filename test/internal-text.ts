// What "internal error text" looks like, for tests that prove none reaches an answer or an event
// (workerd tests here, and the reliability suite under Node): driver, SQLite and runtime messages,
// stack traces and source paths.
const PATTERNS: [string, RegExp][] = [
  ['stack trace', /\n\s+at [^\n]*\(?[^\s()]+:\d+:\d+\)?/],
  ['source path', /\b(?:worker|node_modules|src)\/[\w./-]+\.(?:ts|js|mjs)\b/],
  ['SQLite', /SQLITE_[A-Z]+|SqliteError|no such (?:table|column)|sqlite/i],
  [
    'Postgres driver',
    /NeonDbError|DrizzleQueryError|Failed query|duplicate key value|violates [\w ]+constraint|relation "[^"]+"|syntax error at or near|invalid input syntax|SQLSTATE/,
  ],
  [
    'network runtime',
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|Network connection lost|internal error; reference =/,
  ],
  [
    'JavaScript error',
    /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|EvalError)\b|Cannot read propert|is not a function|is not defined|undefined is not/,
  ],
  ['Durable Object runtime', /Durable Object (?:reset|storage)|exceeded its memory|Actor|jsg\./],
];

/** The kind of internal text `text` holds, or undefined when it holds none. */
export function internalTextIn(text: string): string | undefined {
  for (const [kind, pattern] of PATTERNS) if (pattern.test(text)) return kind;
  return undefined;
}
