/** How deep client JSON (metadata) may nest: far above any real use, far below a stack overflow. */
export const MAX_JSON_DEPTH = 32;

/**
 * The nesting depth of a parsed JSON value (a scalar is 0, `{}` and `[]` are 1), walked with
 * an explicit stack so a hostile 100,000-deep value cannot overflow the call stack. Stops
 * counting once `limit` is passed.
 */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) pending.push({ value: child, depth: level });
  }
  return deepest;
}
