import pgvector from 'pgvector';

/** pgvector's text form (`[0.1,0.2,...]`), sent as an untyped parameter and cast in SQL. */
export function toVectorLiteral(embedding: number[]): string {
  return pgvector.toSql(embedding) as string;
}

const INT4_MAX = 2 ** 31 - 1;

/**
 * An embedding's direction as an `int4[]` literal (`{12,-345,...}`): every component scaled
 * so the largest is ±(2³¹ − 1), rounded. SQL turns it back with
 * `l2_normalize(x::int4[]::vector)` (see {@link unitVectorFromIntegers}).
 *
 * Why not the float text: PGlite's WebAssembly `strtof` made parsing a 384-float literal cost
 * about as much as embedding the text with a small model, while integers parse an order of
 * magnitude faster and half as many bytes travel (figures: bench/README.md, "Vectors travel
 * as scaled integers"). The rounding is
 * 2⁻³¹ of the largest component, far below float4's own precision for every component that
 * matters to a cosine; the stored vector is unit length like the embedder's.
 */
export function toScaledIntegers(embedding: readonly number[]): string {
  let largest = 0;
  for (const value of embedding) largest = Math.max(largest, Math.abs(value));
  const scale = largest > 0 ? INT4_MAX / largest : 0;
  let literal = '{';
  for (let index = 0; index < embedding.length; index++) literal += (index ? ',' : '') + Math.round(embedding[index]! * scale);
  return literal + '}';
}
