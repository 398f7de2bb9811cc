import { Injectable } from '@nestjs/common';
import { catalogQueues } from '@conveyor/contracts';
import { ExecutionStore } from '@conveyor/executions';
import { exportQueueDepth } from '@conveyor/metrics';

/** The gateway is the one service that exports queue depth (one HGETALL per queue a scrape). */
@Injectable()
export class QueueDepthMetrics {
  constructor(store: ExecutionStore) {
    exportQueueDepth(catalogQueues, (queue) => store.statusCounts([queue], null));
  }
}
