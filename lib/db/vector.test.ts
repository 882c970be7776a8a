import { describe, expect, it } from 'vitest';
import { toScaledIntegers } from './vector.ts';

const parse = (literal: string) => literal.slice(1, -1).split(',').map(Number);

describe('toScaledIntegers', () => {
  it('scales the largest component to the int4 limit and keeps every ratio', () => {
    const vector = [0.6, -0.8, 0, 0.0001];
    const integers = parse(toScaledIntegers(vector));
    expect(integers[1]).toBe(-(2 ** 31 - 1));
    expect(integers.every((value) => Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1)).toBe(true);
    const length = Math.hypot(...integers);
    const unit = Math.hypot(...vector);
    integers.forEach((value, index) => expect(Math.abs(value / length - vector[index]! / unit)).toBeLessThan(1e-9));
  });

  it('gives zeros for a zero vector, never NaN', () => {
    expect(toScaledIntegers([0, 0, 0])).toBe('{0,0,0}');
  });
});
