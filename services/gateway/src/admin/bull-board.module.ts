import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule, InjectBullBoard, type BullBoardInstance } from '@bull-board/nestjs';
import { ExecutionQueues } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';
import { ScheduleService, SchedulesModule } from '@conveyor/schedules';

/** Bull Board at /admin/queues, showing every queue (the catalogue's and the schedule ticks') under its plain name. */
@Module({
  imports: [
    BullBoardModule.forRoot({
      route: '/admin/queues',
      adapter: ExpressAdapter,
      boardOptions: { uiConfig: { boardTitle: 'Conveyor' } },
    }),
    SchedulesModule,
  ],
})
export class BullBoardAdminModule implements OnModuleInit {
  constructor(
    @InjectBullBoard() private readonly board: BullBoardInstance,
    @Inject(ExecutionQueues) private readonly queues: ExecutionQueues,
    @Inject(RedisKeys) private readonly keys: RedisKeys,
    @Inject(ScheduleService) private readonly schedules: ScheduleService,
  ) {}

  onModuleInit(): void {
    this.board.replaceQueues(
      [...this.queues.all(), this.schedules.ticks].map((queue) => new BullMQAdapter(queue, { displayName: this.keys.queueOfBullName(queue.name) })),
    );
  }
}
