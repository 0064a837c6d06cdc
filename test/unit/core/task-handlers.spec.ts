import { TaskHandlers } from '../../../lib/core/task-handlers.js';

describe('TaskHandlers', () => {
  class Mailer {
    send(): void {}
    other(): void {}
  }
  const instance = new Mailer();

  it('finds a handler by its function and by its name; nothing else', () => {
    const handlers = new TaskHandlers();
    expect(handlers.of(Mailer.prototype.send)).toBeUndefined();
    handlers.register({ name: 'Mailer.send', fn: Mailer.prototype.send, instance, options: {} });
    expect(handlers.of(Mailer.prototype.send)?.instance).toBe(instance);
    expect(handlers.named('Mailer.send')?.fn).toBe(Mailer.prototype.send);
    expect(handlers.of(Mailer.prototype.other)).toBeUndefined();
    expect(handlers.of(() => undefined)).toBeUndefined();
    expect(handlers.names).toEqual(['Mailer.send']);
  });

  it('refuses a second handler of the same name, or the same function twice', () => {
    const handlers = new TaskHandlers();
    handlers.register({ name: 'send', fn: Mailer.prototype.send, instance, options: {} });
    expect(() => handlers.register({ name: 'send', fn: Mailer.prototype.other, instance, options: {} })).toThrow(
      '@BackgroundTaskHandler(): two handlers are named "send".',
    );
    expect(() => handlers.register({ name: 'again', fn: Mailer.prototype.send, instance: new Mailer(), options: {} })).toThrow(
      '@BackgroundTaskHandler(): two handlers are named "again".',
    );
  });
});
