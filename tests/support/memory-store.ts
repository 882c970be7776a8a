import type { KnowledgeStore } from '../../lib/contracts.ts';
import { createExactScanStore } from '../../scripts/eval/exact-scan-store.ts';

/** The in-memory store of the tests: an exact scan plus a way to make the next call fail. */
export type MemoryStore = KnowledgeStore & {
  /** The next store call (any method) throws `error` instead of running. */
  failNext(error: Error): void;
};

/**
 * An in-memory {@link KnowledgeStore} for unit tests and fault injection: the eval's exact
 * cosine scan (no full-text ranking, no persistence) with {@link MemoryStore.failNext}.
 */
export function createMemoryStore(): MemoryStore {
  const store = createExactScanStore();
  let pendingFailure: Error | undefined;
  const failing = <Arguments extends unknown[], Result>(call: (...parameters: Arguments) => Promise<Result>) =>
    async (...parameters: Arguments): Promise<Result> => {
      const failure = pendingFailure;
      pendingFailure = undefined;
      if (failure) throw failure;
      return call(...parameters);
    };
  return {
    failNext(error) {
      pendingFailure = error;
    },
    findDocument: failing(store.findDocument),
    replaceDocument: failing(store.replaceDocument),
    listDocuments: failing(store.listDocuments),
    deleteDocument: failing(store.deleteDocument),
    search: failing(store.search),
    ping: failing(store.ping),
    close: store.close,
  };
}
