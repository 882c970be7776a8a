/**
 * Texts the real-model lane embeds with the service and with the reference: English and
 * Chinese, one word to several hundred tokens, symbols and numbers, and texts longer than
 * all-MiniLM-L6-v2's 256-token window (which must be cut to their first 254 word pieces).
 */
const LONG_ENGLISH = Array.from(
  { length: 40 },
  (_, index) => `Paragraph ${index + 1}: the ingestion worker splits documents into chunks, embeds them and stores the vectors beside their text.`,
).join(' ');
const LONG_CHINESE = '本服务把文档切分成片段，为每个片段计算向量，并把向量和原文一起存入数据库。'.repeat(12);

export const VERIFICATION_TEXTS: readonly string[] = [
  'Hello world',
  'cats',
  'How long do cats sleep each day?',
  'The Eiffel Tower is located in Paris and was completed in 1889.',
  'Rate limiting returns HTTP 429 Too Many Requests when a client sends too many calls.',
  'Pin the dependency to ^0.2.3, then upgrade the API to v2 once the migration is done.',
  'PostgreSQL with the pgvector extension stores embeddings and answers nearest-neighbour queries with an HNSW index.',
  "WebSocket compression (permessage-deflate) trades CPU time for bandwidth; disable it when latency matters more than the bytes sent.",
  'What is the capital city of Australia?',
  'A very short one.',
  'Email a.b@example.com or call +1 (555) 010-9999 before 5:30 p.m.',
  LONG_ENGLISH,
  '你好，世界',
  '猫每天睡多久？',
  '向量数据库如何回答最近邻查询？',
  '资料不足',
  '澳大利亚的首都是哪座城市？',
  'PostgreSQL 的 pgvector 扩展使用 HNSW 索引来加速向量检索。',
  '混合检索把全文搜索和向量搜索的结果按倒数排名融合在一起，常见的参数 k 取 60。',
  LONG_CHINESE,
];
