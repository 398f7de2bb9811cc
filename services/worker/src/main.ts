import { NestFactory } from '@nestjs/core';
import { loadWorkerConfig } from '@conveyor/config';
import { announceReady, closeOnSignals, PinoNestLogger, runService } from '@conveyor/service';
import { findRegistryProblems, taskHandlers } from './tasks/task-handlers.js';
import { WorkerModule } from './worker.module.js';

await runService('worker', loadWorkerConfig, async (config, logger) => {
  const problems = findRegistryProblems(taskHandlers, config.queues);
  if (problems.length > 0) throw new Error(`Task handlers do not match the catalogue: ${problems.join('; ')}`);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  closeOnSignals(app, logger);
  await app.init();
  announceReady(logger, { queues: config.queues, concurrency: config.concurrency });
});
