import { ConsoleLogger } from '@nestjs/common';

/** A Nest logger that keeps what it is given, to assert on. */
export class CapturingLogger extends ConsoleLogger {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  override error(message: unknown, ...rest: unknown[]): void {
    this.errors.push([message, ...rest].map(String).join(' '));
  }

  override warn(message: unknown, ...rest: unknown[]): void {
    this.warnings.push([message, ...rest].map(String).join(' '));
  }

  override log(): void {}
}
