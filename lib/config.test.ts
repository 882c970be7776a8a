import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, FUNCTION_NAMES, loadConfig } from './config.ts';

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

  it('uses the embedded chat runtime unless LLM_BASE_URL is set, with the default model from the hub', () => {
    const config = loadConfig({});
    expect(config.llm.baseURL).toBeUndefined();
    expect(config.llm.contextTokens).toBeUndefined();
    expect(config.llm.embedded).toMatchObject({ modelFile: undefined, modelsDir: './models', offline: false, threads: 0, parallel: 2, queueLimit: 8 });
    expect(config.llm.embedded.hub).toEqual({ endpoint: 'https://huggingface.co', repoId: 'bartowski/Qwen2.5-1.5B-Instruct-GGUF', filename: 'Qwen2.5-1.5B-Instruct-Q4_K_M.gguf', revision: 'main', token: undefined });
    expect(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:8081/v1', LLM_CONTEXT_TOKENS: '2048' }).llm).toMatchObject({ baseURL: 'http://127.0.0.1:8081/v1', contextTokens: 2048 });
  });

  it("takes a hub model of one's own only with both HF_REPO_ID and HF_FILENAME", () => {
    const config = loadConfig({ HF_REPO_ID: 'org/repo', HF_FILENAME: 'model.gguf', HF_REVISION: 'v1', HF_TOKEN: 'secret', HF_ENDPOINT: 'http://127.0.0.1:9/' });
    expect(config.llm.embedded.hub).toEqual({ endpoint: 'http://127.0.0.1:9', repoId: 'org/repo', filename: 'model.gguf', revision: 'v1', token: 'secret' });
    expect(() => loadConfig({ HF_REPO_ID: 'org/repo' })).toThrow(/HF_FILENAME: required with HF_REPO_ID/);
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

  describe('*_FILE variables (Docker and Kubernetes secrets)', () => {
    const secrets: Record<string, string> = {
      '/run/secrets/api_key': 'write-key\n',
      '/run/secrets/llm_api_key': 'llm-key',
      '/run/secrets/postgres_password': 'p@ss word/1\n',
      '/run/secrets/database_url': 'postgres://rag:secret@postgres:5432/rag\n',
    };
    const readFile = (path: string) => {
      const content = secrets[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return content;
    };

    it('reads each key from its file, without the trailing newline', () => {
      const config = loadConfig(
        { API_KEY_FILE: '/run/secrets/api_key', LLM_API_KEY_FILE: '/run/secrets/llm_api_key', DATABASE_URL_FILE: '/run/secrets/database_url' },
        { readFile },
      );
      expect(config.apiKey).toBe('write-key');
      expect(config.llm.apiKey).toBe('llm-key');
      expect(config.database.url).toBe('postgres://rag:secret@postgres:5432/rag');
    });

    it('puts DATABASE_PASSWORD(_FILE) into DATABASE_URL, percent-encoded', () => {
      const config = loadConfig({ DATABASE_URL: 'postgres://rag@postgres:5432/rag', DATABASE_PASSWORD_FILE: '/run/secrets/postgres_password' }, { readFile });
      expect(config.database.url).toBe('postgres://rag:p%40ss%20word%2F1@postgres:5432/rag');
      expect(decodeURIComponent(new URL(config.database.url!).password)).toBe('p@ss word/1');
      expect(loadConfig({ DATABASE_URL: 'postgres://rag:old@db/rag', DATABASE_PASSWORD: 'new' }).database.url).toBe('postgres://rag:new@db/rag');
    });

    it('reads the real file system by default', async () => {
      const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const folder = mkdtempSync(join(tmpdir(), 'config-file-'));
      try {
        writeFileSync(join(folder, 'api_key'), 'from-disk\n');
        expect(loadConfig({ API_KEY_FILE: join(folder, 'api_key') }).apiKey).toBe('from-disk');
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });

    it('names the variable when its file is missing, or when both forms are set', () => {
      const failure = (environment: Record<string, string>) => {
        try {
          loadConfig(environment, { readFile });
        } catch (error) {
          return error as ConfigError;
        }
        throw new Error('expected a ConfigError');
      };
      const missing = failure({ API_KEY_FILE: '/run/secrets/absent', PORT: 'eighty' });
      expect(missing).toBeInstanceOf(ConfigError);
      expect(missing.variables.sort()).toEqual(['API_KEY_FILE', 'PORT']);
      expect(missing.message).toContain('cannot read /run/secrets/absent (ENOENT)');
      const both = failure({ LLM_API_KEY: 'inline', LLM_API_KEY_FILE: '/run/secrets/llm_api_key' });
      expect(both.variables).toEqual(['LLM_API_KEY_FILE']);
      expect(both.message).toContain('set only one of them');
      expect(failure({ DATABASE_PASSWORD: 'x' }).variables).toEqual(['DATABASE_PASSWORD']);
    });

    it('lists the *_FILE names among the variables it reads', () => {
      expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining(['API_KEY_FILE', 'LLM_API_KEY_FILE', 'DATABASE_URL_FILE', 'DATABASE_PASSWORD_FILE', 'DATABASE_PASSWORD']));
    });
  });
});
