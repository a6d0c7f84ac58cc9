// Starts the real orgcerts binary for the official Node SDK to drive: a fresh SQLite file, a
// known bootstrap admin key, a free port read from the JSON log line "listening".
import { spawn, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function adminKey() {
  let key = 'sk-admin-';
  for (let i = 0; i < 48; i += 1) key += ALPHABET[randomInt(ALPHABET.length)];
  return key;
}

export class Server {
  /** Every request the server logged: { method, path, status }. */
  requests = [];

  static async start() {
    const server = new Server();
    await server.#spawn();
    return server;
  }

  async #spawn() {
    const binary = process.env.ORGCERTS_BIN ?? '../../target/debug/orgcerts';
    this.dir = mkdtempSync(join(tmpdir(), 'orgcerts-node-'));
    this.key = adminKey();
    this.proc = spawn(binary, ['serve'], {
      env: {
        ...process.env,
        DATABASE_URL: `sqlite://${this.dir}/orgcerts.sqlite3`,
        ORGCERTS_BOOTSTRAP_ADMIN_KEY: this.key,
        ORGCERTS_LOG_FORMAT: 'json',
        ORGCERTS_LISTEN: '127.0.0.1:0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const compatLog = process.env.ORGCERTS_COMPAT_DIR
      ? join(process.env.ORGCERTS_COMPAT_DIR, 'node.log')
      : null;
    const log = [];
    this.addr = await new Promise((resolve, reject) => {
      // Keeps draining stderr for the server's whole life, so that it never blocks on a full pipe.
      createInterface({ input: this.proc.stderr }).on('line', (line) => {
        log.push(line);
        if (compatLog) appendFileSync(compatLog, `${line}\n`);
        let record;
        try {
          record = JSON.parse(line);
        } catch {
          return;
        }
        const fields = record.fields ?? {};
        if (fields.message === 'listening') resolve(fields.addr);
        if (fields.message === 'request') {
          this.requests.push({ method: fields.method, path: fields.path, status: fields.status });
        }
      });
      this.proc.on('exit', (code) =>
        reject(new Error(`orgcerts exited (${code}) before listening:\n${log.join('\n')}`)),
      );
    });
  }

  /**
   * The requests logged from index `from` on, once at least `atLeast` of them have been: the
   * server writes its log lines in batches, a few milliseconds after the responses. Waits a
   * little longer still, so that a request beyond those expected would show up too.
   */
  async requestsSince(from, atLeast) {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const deadline = Date.now() + 5000;
    while (this.requests.length - from < atLeast && Date.now() < deadline) await sleep(5);
    await sleep(100);
    return this.requests.slice(from);
  }

  get baseURL() {
    return `http://${this.addr}/v1`;
  }

  async stop() {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A self-signed CA certificate in PEM, minted now (openssl) so that none can expire in the repo. */
export function makeCA(name) {
  return execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', '/dev/null', '-days', '365', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
