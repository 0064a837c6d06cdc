import { request } from 'node:http';

/**
 * POSTs on a fresh connection that closes after the response, so no kept-alive
 * socket delays a closing server.
 */
export function post(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * POSTs, then goes away (destroys the connection) once `entered` resolves:
 * the server side's signal that the request is being handled.
 */
export async function postThenLeave(
  port: number,
  path: string,
  entered: Promise<unknown>,
  headers: Record<string, string> = {},
): Promise<void> {
  const client = request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false });
  client.on('error', () => undefined); // destroyed on purpose
  client.end();
  await entered;
  client.destroy();
}
