// A stand-in for the model hub's download API on 127.0.0.1, so that llm_init's real
// `huggingface_hub.hf_hub_download` runs against files this machine has (HF_ENDPOINT points
// here). It serves `GET|HEAD /<org>/<name>/resolve/<revision>/<path>` with the headers the
// client checks (X-Repo-Commit, ETag, Content-Length) and the hub's 404 codes, and counts
// every download so the test can tell that a second run fetched nothing.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** One repository: its id (`org/name`), the folder whose files it serves, optionally only some. */
export interface HubRepository {
  id: string;
  folder: string;
  files?: readonly string[];
}

interface HubFile {
  absolutePath: string;
  size: number;
  etag: string;
}

export interface StandInHub {
  /** e.g. `http://127.0.0.1:40123`, the value for HF_ENDPOINT. */
  endpoint: string;
  /** Completed GETs of a file, by `repo/path`. */
  downloads: Map<string, number>;
  /** Every request line received, for the failure message. */
  requests: string[];
  close(): Promise<void>;
}

const RESOLVE = /^\/(?<repository>[^/]+\/[^/]+)\/resolve\/(?<revision>[^/]+)\/(?<file>.+)$/;

function filesOf(folder: string, prefix = ''): string[] {
  return readdirSync(path.join(folder, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesOf(folder, relative) : [relative];
  });
}

/** A fixed commit id per repository, as the hub answers for `main`. */
function commitOf(repository: HubRepository, files: Map<string, HubFile>): string {
  const hash = createHash('sha1').update(repository.id);
  for (const [name, file] of files) hash.update(`${name}:${file.etag}`);
  return hash.digest('hex');
}

export async function startStandInHub(repositories: readonly HubRepository[]): Promise<StandInHub> {
  const catalogue = new Map<string, { commit: string; files: Map<string, HubFile> }>();
  for (const repository of repositories) {
    const files = new Map<string, HubFile>();
    for (const relative of repository.files ?? filesOf(repository.folder)) {
      const absolutePath = path.join(repository.folder, relative);
      const etag = createHash('sha256').update(readFileSync(absolutePath)).digest('hex');
      files.set(relative, { absolutePath, size: statSync(absolutePath).size, etag });
    }
    catalogue.set(repository.id, { commit: commitOf(repository, files), files });
  }
  const downloads = new Map<string, number>();
  const requests: string[] = [];

  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const match = RESOLVE.exec(decodeURI((request.url ?? '').split('?')[0] ?? ''));
    const notFound = (code: string, message: string) => {
      response.writeHead(404, { 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message });
      response.end(JSON.stringify({ error: message }));
    };
    if (!match?.groups || (request.method !== 'GET' && request.method !== 'HEAD')) return notFound('RepoNotFound', 'Repository not found');
    const repository = catalogue.get(match.groups.repository!);
    if (!repository) return notFound('RepoNotFound', 'Repository not found');
    const file = repository.files.get(match.groups.file!);
    if (!file) return notFound('EntryNotFound', 'Entry not found');
    response.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(file.size),
      ETag: `"${file.etag}"`,
      'X-Repo-Commit': repository.commit,
      'Accept-Ranges': 'none',
    });
    if (request.method === 'HEAD') return response.end();
    const key = `${match.groups.repository}/${match.groups.file}`;
    createReadStream(file.absolutePath)
      .on('end', () => downloads.set(key, (downloads.get(key) ?? 0) + 1))
      .pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    downloads,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
