import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface NginxCheck {
  /** False when no nginx is installed: the check was skipped, not passed. */
  ran: boolean;
  failures: string[];
  note: string;
}

/**
 * Renders infra/nginx/gateway.conf.template with infra/scripts/nginx.sh (the same envsubst
 * rules as the nginx image) for local upstreams and validates it with `nginx -t`.
 */
export function checkNginxConfig(root: string): NginxCheck {
  if (spawnSync('nginx', ['-v']).error) {
    return { ran: false, failures: [], note: 'nginx -t skipped: nginx is not installed (bash infra/scripts/nginx.sh install)' };
  }
  const prefix = mkdtempSync(path.join(tmpdir(), 'gateway-check-'));
  try {
    const result = spawnSync('bash', [path.join(root, 'infra/scripts/nginx.sh'), 'test', prefix], { encoding: 'utf8' });
    if (result.status === 0) return { ran: true, failures: [], note: 'nginx -t: the rendered gateway config is valid' };
    return { ran: true, failures: [`nginx -t rejected the rendered gateway config:\n${(result.stderr || result.stdout).trim()}`], note: '' };
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}
