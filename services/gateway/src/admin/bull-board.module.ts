import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule, InjectBullBoard, type BullBoardInstance } from '@bull-board/nestjs';
import { ExecutionQueues } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';

/** Bull Board at /admin/queues, showing every queue of the catalogue under its plain name. */
@Module({
  imports: [
    BullBoardModule.forRoot({
      route: '/admin/queues',
      adapter: ExpressAdapter,
      boardOptions: { uiConfig: { boardTitle: 'Conveyor' } },
    }),
  ],
})
export class BullBoardAdminModule implements OnModuleInit {
  constructor(
    @InjectBullBoard() private readonly board: BullBoardInstance,
    @Inject(ExecutionQueues) private readonly queues: ExecutionQueues,
    @Inject(RedisKeys) private readonly keys: RedisKeys,
  ) {}

  onModuleInit(): void {
    this.board.replaceQueues(
      this.queues.all().map((queue) => new BullMQAdapter(queue, { displayName: this.keys.queueOfBullName(queue.name) })),
    );
  }
}
