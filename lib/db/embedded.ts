import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL: PGlite with pgvector, reachable over a loopback socket. */
export interface EmbeddedPostgres {
  host: string;
  port: number;
  stop(): Promise<void>;
}

const LOCK_FILE = 'local-rag.lock';
// Directories this process has open: the lock file alone cannot tell "us, twice" from a
// stale lock left by an earlier process that had our PID (PID 1 in every container).
const openInThisProcess = new Set<string>();

/**
 * Starts PGlite (PostgreSQL 18 in WebAssembly, pgvector 0.8) persisted in `dataDir` and
 * exposes it on 127.0.0.1 through pglite-socket, so the same postgres.js code serves both
 * the embedded default and a real server. PGlite is one single-user backend: clients must
 * use ONE connection (postgres.js `max: 1`); with several, a transaction interleaved with
 * other queries sees wrong rows. PGlite has no lock of its own, so a lock file keeps a
 * second process away from the same data directory.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const directory = path.resolve(dataDir);
  await mkdir(directory, { recursive: true });
  const releaseLock = await lockDataDirectory(directory);
  let database: PGlite | undefined;
  try {
    database = await PGlite.create({ dataDir: path.join(directory, 'pglite'), extensions: { vector } });
    const server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port: 0 });
    await server.start();
    const [host, port] = server.getServerConn().split(':');
    const running = database;
    return {
      host: host!,
      port: Number(port),
      async stop() {
        await server.stop();
        await running.close();
        await releaseLock();
      },
    };
  } catch (error) {
    await database?.close().catch(() => {});
    await releaseLock();
    throw error;
  }
}

/** Thrown when another live process holds the data directory. */
export class DataDirectoryLockedError extends Error {
  constructor(directory: string, pid: number) {
    super(`data directory ${directory} is in use by another local-rag process (pid ${pid}); stop it or set DATA_DIR to another folder`);
    this.name = 'DataDirectoryLockedError';
  }
}

async function lockDataDirectory(directory: string): Promise<() => Promise<void>> {
  if (openInThisProcess.has(directory)) throw new DataDirectoryLockedError(directory, process.pid);
  const lockPath = path.join(directory, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      openInThisProcess.add(directory);
      return async () => {
        openInThisProcess.delete(directory);
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirectoryLockedError(directory, holder);
      }
      // The holder is gone (crash, kill -9): the lock is stale, take it over.
      await rm(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock data directory ${directory}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
