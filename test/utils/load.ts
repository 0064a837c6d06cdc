import { type Agent, request } from 'node:http';

/** What a client got: a response, or nothing because it went away first. */
export type Reply = { readonly status: number; readonly body: string } | { readonly aborted: true };

export interface SendOptions {
  readonly agent: Agent;
  readonly port: number;
  readonly path: string;
  /** Sent as a JSON body. */
  readonly json?: unknown;
  /** Sent besides the JSON content type and length. */
  readonly headers?: Readonly<Record<string, string>>;
  /** When it resolves before the response has come, the client destroys its socket. */
  readonly abortWhen?: Promise<unknown>;
  /** Fails the request if its socket stays silent this long, so that a lost request cannot hang the test. */
  readonly timeout?: number;
}

/** POSTs on `agent` to 127.0.0.1 and resolves with the whole reply. */
export function send({ agent, port, path, json, headers: extra, abortWhen, timeout = 15_000 }: SendOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? '' : JSON.stringify(json);
    const headers = { ...extra, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    let settled = false;
    let aborting = false;
    const settle = (reply: Reply) => {
      settled = true;
      resolve(reply);
    };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => settle({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`No reply to POST ${path} within ${timeout} ms`)));
    // Destroying the request reports an error ("socket hang up") on some Node versions, only 'close' on others.
    req.on('error', (error) => (aborting ? settle({ aborted: true }) : reject(error)));
    req.on('close', () => aborting && !settled && settle({ aborted: true }));
    void abortWhen?.then(() => {
      // Once the reply is in, the socket may already carry another request of the agent.
      if (settled) return;
      aborting = true;
      req.destroy();
    });
    req.end(body);
  });
}

/**
 * Runs `job(0)` … `job(count - 1)` with at most `concurrency` in flight, and
 * resolves with their results in index order. After a failure no new job starts.
 */
export async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const i = next++;
      try {
        results[i] = await job(i);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
