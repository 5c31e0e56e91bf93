// The small-files job: the file-writing worker (cli/write-files-worker.ts) creates the small
// artifacts (10 000 xl snippets at 10 000 domains) on a thread of its own while the main
// thread makes and writes the large ones (the policy and the manifest, made as they are
// written). Each create is a journalled metadata update
// on ext4, about a second and a half for 10 000 files on this project's CI machine, and it
// needs none of the main thread's data but the files' text: on a second core it costs no
// wall time. output.ts stageSmallFiles starts the worker and waits for it.
//
// The protocol, both ends of it here: workerData is a SmallFilesJob; the worker sets
// `progress[STARTED]`, counts the files it has made in `progress[DONE]` and, last, whatever
// happened, posts a SmallFilesResult on `port` and sets `progress[STATE]` to FINISHED, with
// Atomics.notify. The main thread waits with Atomics.wait, so writeArtifacts stays a plain
// function call: nothing else runs on the main thread meanwhile, and the umask it cleared for
// the write (output.ts withoutUmask) is cleared for no other code.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { writeFresh } from './create-file.js';

export interface SmallFilesJob {
  /** Absolute path, text, mode; the umask is already 0 (see output.ts withoutUmask). */
  readonly files: readonly (readonly [string, string, number])[];
  /** Int32Array over a SharedArrayBuffer, indices STATE and DONE. */
  readonly progress: Int32Array;
  readonly port: MessagePort;
}

/** What the worker posts when it stops: the first file it could not make, and why. */
export interface SmallFilesResult {
  readonly failed?: { readonly file: string; readonly message: string };
}

const STATE = 0;
const DONE = 1;
const STARTED = 2;
const RUNNING = 0;
const FINISHED = 1;

/** Makes every file of the job in order, stopping at the first failure; always reports. */
export function runSmallFilesJob(job: SmallFilesJob): void {
  let result: SmallFilesResult = {};
  let current = '';
  Atomics.store(job.progress, STARTED, 1);
  try {
    for (const [file, text, mode] of job.files) {
      current = file;
      writeFresh(file, text, mode, true);
      Atomics.add(job.progress, DONE, 1);
    }
  } catch (e) {
    result = { failed: { file: current, message: (e as Error).message } };
  } finally {
    job.port.postMessage(result);
    Atomics.store(job.progress, STATE, FINISHED);
    Atomics.notify(job.progress, STATE);
  }
}


/**
 * Below this many small files a worker's start (tens of milliseconds) costs more than it
 * saves: they are made on the main thread.
 */
export const WORKER_FROM = 256;

/** The worker's file, beside this module's (dist/cli/, or dist/bin/ in the bundle). */
const WORKER_FILE = new URL('./write-files-worker.js', import.meta.url);

/** How long the worker may take to start before the write is given up as failed. */
const START_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

/** Small files being made by the worker. */
export interface SmallFilesInFlight {
  /**
   * Blocks until the worker has made them all, telling `onProgress` how many are made as it
   * goes; throws the error of the first file it could not make.
   */
  wait(onProgress?: (done: number) => void): void;
}

/**
 * Starts the worker on `files` (absolute path, text, mode; the umask must already be 0 and
 * stay so until wait returns), or returns undefined when its file is missing (a copy of the
 * tree without it): the caller then makes them itself.
 */
export function startSmallFiles(files: readonly (readonly [string, string, number])[]): SmallFilesInFlight | undefined {
  if (!existsSync(fileURLToPath(WORKER_FILE))) return undefined;
  const progress = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  const { port1, port2 } = new MessageChannel();
  const job: SmallFilesJob = { files, progress, port: port2 };
  const worker = new Worker(WORKER_FILE, { workerData: job, transferList: [port2], stdout: false, stderr: false });
  // Never what keeps the process alive: wait() is the only way its work is waited for.
  worker.unref();
  return {
    wait(onProgress) {
      const startedBy = Date.now() + START_TIMEOUT_MS;
      try {
        while (Atomics.wait(progress, STATE, RUNNING, POLL_MS) === 'timed-out') {
          onProgress?.(Atomics.load(progress, DONE));
          if (Atomics.load(progress, STARTED) === 0 && Date.now() > startedBy) throw new Error(`the file-writing worker did not start within ${START_TIMEOUT_MS / 1000} s`);
        }
        onProgress?.(Atomics.load(progress, DONE));
        const result = receiveMessageOnPort(port1)?.message as SmallFilesResult | undefined;
        if (!result) throw new Error('the file-writing worker stopped without a report');
        if (result.failed) throw new Error(result.failed.message);
      } finally {
        port1.close();
        void worker.terminate();
      }
    },
  };
}
