/**
 * How a value given by the user is shown in an error message: strings quoted (so the string `"60"` is not read
 * as the number 60), numbers as JavaScript writes them (`NaN`, not JSON's `null`), and anything long cut short,
 * so a 300-character key does not flood a log line. The whole value stays in the error's `context`.
 */

/** Characters of a value shown before it is cut short with an ellipsis. */
export const SHOWN_LENGTH = 64;

export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length <= SHOWN_LENGTH
        ? JSON.stringify(value)
        : `${JSON.stringify(`${value.slice(0, SHOWN_LENGTH)}…`)} (${value.length} characters)`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return value.name === '' ? 'a function' : `function ${value.name}`;
  }
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length <= SHOWN_LENGTH ? json : `${json.slice(0, SHOWN_LENGTH)}…`;
  } catch {
    // circular, or a BigInt inside: named by its kind below
  }
  return Object.prototype.toString.call(value); // also for Object.create(null), which has no toString
}

/** `a` or `an`, for a word that follows it in a message ("an object", "a string"). */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}
