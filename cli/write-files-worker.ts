// The file-writing worker's entry: a file of its own (bundled as dist/bin/write-files-worker.js
// beside the command that starts it), doing nothing but the job it is given; see
// cli/small-files.ts for what the job is and why it runs on a thread of its own.

import { workerData } from 'node:worker_threads';
import { runSmallFilesJob, type SmallFilesJob } from './small-files.js';

runSmallFilesJob(workerData as SmallFilesJob);
