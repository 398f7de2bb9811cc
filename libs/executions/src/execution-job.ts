import { hash } from 'node:crypto';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, isString, Matches, Max, MaxLength, maxLength, Min, ValidateNested } from 'class-validator';
import {
  BackoffDto,
  defaultTenant,
  findTask,
  idPatterns,
  isId,
  isPlainObject,
  jsonShapeProblems,
  tenantPattern,
  toBackoffPolicy,
  validateStored,
  type AnyTask,
  type BackoffPolicy,
  type Validated,
} from '@conveyor/contracts';
import { storedFormatVersion, type ExecutionJobData, type ExecutionRef } from './execution-record.js';

/** The longest `inputCheck` a job may carry (see `inputCheckMark`). */
const inputCheckMaxLength = 100;

/**
 * The job data a worker accepts, but for `input` (checked against the task's class). Conveyor writes
 * all of it; a job added by hand (Bull Board, a plain BullMQ `add`) may leave it out and gets the defaults.
 */
class ExecutionJobDataDto {
  @IsOptional()
  @IsIn([storedFormatVersion])
  v?: number;

  @IsOptional()
  @Matches(tenantPattern, { message: 'must be a tenant name (1 to 32 of a-z, 0-9 and -)' })
  tenant?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 60 * 60 * 1000)
  timeoutMs?: number | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => BackoffDto)
  backoff?: BackoffDto;

  @IsOptional()
  @Matches(idPatterns.schedule, { message: 'must be a schedule id (sch_<ULID>)' })
  scheduleId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(inputCheckMaxLength)
  inputCheck?: string;
}

/** A job fit to run: its task, where its keys live, and its data with the defaults filled in. */
export interface CheckedJob {
  task: AnyTask;
  ref: ExecutionRef;
  data: ExecutionJobData & { backoff: BackoffPolicy };
}

/** Why a job cannot be run (nor given a record): `code` is stable, `message` says what to fix. */
export interface JobRefusal {
  code: 'invalid_job' | 'unknown_task' | 'unsupported_format';
  message: string;
}

/**
 * Checks a job's envelope (id, name, data) before any key is built from it: a job added outside
 * Conveyor may carry anything, and its tenant, id or schedule id would otherwise become key names.
 * The input is checked later, against the task's class.
 */
export function checkExecutionJob(queue: string, job: { id?: string; name: string; data: unknown }): CheckedJob | JobRefusal {
  const id = job.id ?? '';
  if (!isId('execution', id)) {
    return { code: 'invalid_job', message: `Job id "${id}" is not an execution id (exec_<ULID>): submit through Conveyor, or give the job such an id` };
  }
  const task = findTask(job.name);
  if (!task || task.queue !== queue) return { code: 'unknown_task', message: `No task "${job.name}" runs on queue "${queue}"` };
  if (job.data === null || typeof job.data !== 'object' || Array.isArray(job.data)) return { code: 'invalid_job', message: 'Job data must be an object' };
  const { input, ...envelope } = job.data as { input?: unknown; v?: unknown; inputCheck?: unknown };
  if (typeof envelope.v === 'number' && envelope.v > storedFormatVersion) {
    return { code: 'unsupported_format', message: `Job data format v${envelope.v} is newer than this worker understands` };
  }
  const checked = checkEnvelope(envelope);
  if (!checked.ok) return { code: 'invalid_job', message: `Invalid job data: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}` };
  const { timeoutMs, backoff, scheduleId, inputCheck } = checked.value;
  const tenant = checked.value.tenant ?? defaultTenant;
  const data: CheckedJob['data'] = {
    v: storedFormatVersion,
    tenant,
    input: input ?? {},
    // A job added by hand without them runs with the task's defaults, as a submission would.
    timeoutMs: timeoutMs === undefined ? task.defaults.timeoutMs : timeoutMs,
    backoff: backoff ? toBackoffPolicy(backoff) : { ...task.defaults.backoff },
    ...(scheduleId ? { scheduleId } : {}),
    ...(inputCheck ? { inputCheck } : {}),
  };
  return { task, ref: { id, queue, task: task.name, tenant, scheduleId }, data };
}

/**
 * Envelopes found valid, by their JSON without `inputCheck`: a worker sees few of them (its tenants',
 * its tasks' defaults), and class-validator costs more than the rest of a run. The mark is each
 * input's own, so it stays out of the key and is checked alone, with the class's own rules.
 */
const validEnvelopes = new Map<string, ExecutionJobDataDto>();
const validEnvelopesKept = 1000;

function checkEnvelope(envelope: { inputCheck?: unknown }): Validated<ExecutionJobDataDto> {
  const { inputCheck, ...rest } = envelope;
  const key = JSON.stringify(rest);
  const markFits = inputCheck === undefined || (isString(inputCheck) && maxLength(inputCheck, inputCheckMaxLength));
  const known = markFits ? validEnvelopes.get(key) : undefined;
  if (known) return { ok: true, value: { ...known, inputCheck } as ExecutionJobDataDto };
  const checked = validateStored(ExecutionJobDataDto, envelope, 'data');
  if (checked.ok) {
    if (validEnvelopes.size >= validEnvelopesKept) validEnvelopes.delete(validEnvelopes.keys().next().value!);
    validEnvelopes.set(key, checked.value);
  }
  return checked;
}

/**
 * Conveyor's mark on the job data of an input that passed the task's class at submission: the task's
 * version and a digest of the input as stored. It is no signature: whoever can add a job can write
 * Redis, records and events included. It keeps mistakes out — a job duplicated or edited by hand
 * carries a mark that no longer fits its input, or its task's version — and a forged one skips only
 * the check against the class: the input's JSON shape is checked still.
 */
export function inputCheckMark(task: AnyTask, input: unknown): string {
  // 128 bits of the digest: ample to tell inputs apart, and every queued job carries it.
  return `${task.version}:${hash('sha256', JSON.stringify(input) ?? '', 'base64url').slice(0, 22)}`;
}

/**
 * The input, checked against the task's class unless Conveyor checked it at submission (its mark
 * fits): a job added by hand may carry anything.
 */
export function checkJobInput(task: AnyTask, data: ExecutionJobData): Validated<object> {
  const { input, inputCheck } = data;
  const checkedAtSubmission = inputCheck !== undefined && inputCheck === inputCheckMark(task, input);
  if (checkedAtSubmission && isPlainObject(input) && jsonShapeProblems(input).length === 0) return { ok: true, value: input };
  return validateStored(task.input as new () => object, input, 'input');
}

export function isJobRefusal(checked: CheckedJob | JobRefusal): checked is JobRefusal {
  return 'code' in checked;
}
