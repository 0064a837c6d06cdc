import { appendFile } from 'node:fs/promises';

/** Appends a line to the log, as the sample's `writeLog` does. */
export async function writeLog(line: string): Promise<void> {
  await appendFile('log.txt', `${line}\n`);
}
