import type { IncomingMessage } from 'node:http';
import type { TaskOrigin } from '../core/task-owner.js';

/** An HTTP request's origin: the path is cut from the URL only when an event or a log line asks for it. */
class HttpOrigin implements TaskOrigin {
  readonly transport = 'http';

  constructor(
    readonly method: string,
    private readonly url: string,
  ) {}

  get path(): string {
    return this.url.split('?', 1)[0];
  }
}

export function httpOrigin(request: IncomingMessage): TaskOrigin {
  const { method = '', url = '' } = request;
  return new HttpOrigin(method, (request as { originalUrl?: string }).originalUrl ?? url);
}
