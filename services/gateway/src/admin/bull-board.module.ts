import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { BullBoardModule, InjectBullBoard, type BullBoardInstance } from '@bull-board/nestjs';
import { ExecutionQueues } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';
import { ScheduleService, SchedulesModule } from '@conveyor/schedules';
import { ApiError, fromPlatformError } from '@conveyor/service';

type BoardErrorHandler = Parameters<FastifyAdapter['setErrorHandler']>[0];

/**
 * Bull Board's routes answer its own failures in its own shape, and what is refused before them (a body
 * that does not parse, hostile JSON, a body over the limit) with the contract's error body, as any route.
 */
class BoardAdapter extends FastifyAdapter {
  override setErrorHandler(handler: BoardErrorHandler): this {
    return super.setErrorHandler((error) => {
      const refusal = error instanceof ApiError ? error : fromPlatformError(error);
      // Bull Board's type names the statuses it answers itself; ours (413, 415) pass just as well.
      return refusal ? { status: refusal.statusCode as ReturnType<BoardErrorHandler>['status'], body: refusal.toBody() } : handler(error);
    });
  }
}

/** Bull Board at /admin/queues, showing every queue (the catalogue's and the schedule ticks') under its plain name. */
@Module({
  imports: [
    BullBoardModule.forRoot({
      route: '/admin/queues',
      adapter: BoardAdapter,
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
