import { appendFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

// The background tasks of the sample: plain functions, as in FastAPI. They
// get nothing from Nest, only the arguments given to `tasks.addTask()`.

/** The log file: `LOG_FILE`, or sample/log.txt. Read on every write, so tests can point it elsewhere. */
export function logFile(): string {
  return resolve(process.env.LOG_FILE ?? 'sample/log.txt');
}

/** FastAPI's `write_notification`: overwrites the log file (with a newline, unlike FastAPI, so later lines stay readable). */
export async function writeNotification(email: string, message = ''): Promise<void> {
  await writeFile(logFile(), `notification for ${email}: ${message}\n`);
}

/** FastAPI's `write_log`: appends a line to the log file. */
export async function writeLog(line: string): Promise<void> {
  await appendFile(logFile(), `${line}\n`);
}
