import { describe, expect, it } from 'vitest';
import { ConfigError, FUNCTION_NAMES, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.functions).toEqual([...FUNCTION_NAMES]);
    expect(config.database.url).toBeUndefined();
    expect(config.database.dataDir).toBe('./data');
    expect(config.embedding).toMatchObject({ model: 'sentence-transformers/all-MiniLM-L6-v2', dimensions: 384, modelsDir: './models', offline: false });
    expect(config.retrieval.topK).toBe(3);
    expect(config.maxDocumentBytes).toBe(1024 * 1024);
    expect(config.apiKey).toBeUndefined();
  });

  it('serves a subset of functions from FUNCTIONS', () => {
    expect(loadConfig({ FUNCTIONS: 'add-document, search' }).functions).toEqual(['add-document', 'search']);
    expect(loadConfig({ FUNCTIONS: 'all' }).functions).toEqual([...FUNCTION_NAMES]);
  });

  it('treats empty values as unset', () => {
    const config = loadConfig({ PORT: '', API_KEY: '', DATABASE_URL: '', HF_HUB_OFFLINE: '' });
    expect(config.port).toBe(8080);
    expect(config.apiKey).toBeUndefined();
    expect(config.database.url).toBeUndefined();
  });

  it('takes LLM_MODEL from HF_FILENAME as the seed does', () => {
    expect(loadConfig({ HF_FILENAME: 'gemma.gguf' }).llm.model).toBe('gemma.gguf');
    expect(loadConfig({ HF_FILENAME: 'gemma.gguf', LLM_MODEL: 'other' }).llm.model).toBe('other');
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', RAG_TOP_K: '0', FUNCTIONS: 'search,chat', DATABASE_URL: 'mysql://x', HF_HUB_OFFLINE: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables.sort()).toEqual(['DATABASE_URL', 'FUNCTIONS', 'HF_HUB_OFFLINE', 'PORT', 'RAG_TOP_K']);
    expect((error as Error).message).toContain('unknown function(s) chat');
  });
});
