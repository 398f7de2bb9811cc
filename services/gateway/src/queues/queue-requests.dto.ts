import { IsIn, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import { OrNull, terminalStatuses, type ExecutionStatus } from '@conveyor/contracts';

/** `POST /v1/queues/:name/clean` */
export class CleanQueueDto {
  @IsIn(terminalStatuses)
  status!: ExecutionStatus;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  olderThanMs?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  limit?: number;
}

/** `PUT /v1/queues/:name/concurrency` */
export class QueueConcurrencyDto {
  @ValidateIf((dto: QueueConcurrencyDto) => dto.concurrency !== null)
  @IsInt()
  @Min(1)
  @Max(100_000)
  @OrNull()
  concurrency!: number | null;
}
