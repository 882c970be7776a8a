import pgvector from 'pgvector';

/** pgvector's text form (`[0.1,0.2,...]`), sent as an untyped parameter and cast in SQL. */
export function toVectorLiteral(embedding: number[]): string {
  return pgvector.toSql(embedding) as string;
}
