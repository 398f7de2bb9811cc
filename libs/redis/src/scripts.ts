import type { Redis, Result } from 'ioredis';
import { activeStatuses, defaultTenant, encodeNumbered, executionStatuses, storedEventHead, type EventType, type ExecutionStatus } from '@conveyor/contracts/core';
import { bullmqCommandName, bullmqScript, type BullmqScript } from './bullmq-scripts.js';
import { RedisKeys } from './keys.js';

/*
 * Conveyor's Lua scripts. Each touches the keys of one queue or one tenant only (one hash tag), passed
 * in KEYS or built from them in the same slot (status indexes from their prefix, a start's and an
 * ending's keys from the job's id), so each is atomic on a single Redis as on a cluster shard: the
 * event of an execution gets its `seq`, updates the execution's record and its status index and
 * counters, enters the capped event log and is published in one step, so events of one execution
 * are never published out of order, whichever process emits them, and lists and totals never
 * disagree with the records.
 * Events go out on sharded pub/sub (SPUBLISH: the channel is a key of the queue's slot), on a single
 * Redis as on a cluster, so that both run the same path.
 */

// Numbers an event (its `seq`), stores it in the capped log and publishes it with its route line;
// a state event of a tenant with webhooks also enters the queue's outbox, in the same step, so that
// its deliveries are made from what was recorded, however the relay fares (a tenant without webhooks
// costs one SISMEMBER).
// Expects: record KEYS[1], event log KEYS[2], channel KEYS[3], the queue's hooked tenants KEYS[HOOKED]
// and outbox KEYS[HOOKED + 1]; ARGV route, head, tail, log cap at ROUTE..ROUTE+3, the tenant at
// ARGV[TENANT] ('' for progress: never sent out).
// The log is a list, oldest first: a stream costs about 4 KiB however few entries it holds (Redis
// preallocates a stream node), which made an execution's first event cost five times its job. Logs
// written as streams by earlier versions are appended to as streams until they are removed: the
// list push refuses such a key (WRONGTYPE), which costs less than asking every log for its type
// (each command a script runs costs a few µs of Redis's time).
// The event is logged when the Lua condition \`logged\` holds; an execution's log stores it with the Lua
// expressions \`stored\` as its head and \`storedTail\` as its tail (see encodeNumbered), a schedule's
// whole. Each concatenation makes one string, however many parts it joins: the message and the log's
// entry are made apart, from the same parts.
const numberAndPublish = (
  route: number,
  tenant: number,
  hooked: number,
  { logged = 'true', stored = `ARGV[${route + 1}]`, storedTail = `ARGV[${route + 2}]` } = {},
) => `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local message = ARGV[${route}] .. '\\n' .. ARGV[${route + 1}] .. seq .. ARGV[${route + 2}]
if ${logged} then
  local entry = ${stored} .. seq .. ${storedTail}
  local cap = tonumber(ARGV[${route + 3}])
  local length = redis.pcall('RPUSH', KEYS[2], entry)
  if type(length) == 'table' then
    redis.call('XADD', KEYS[2], 'MAXLEN', cap, seq .. '-0', 'e', entry)
  elseif length > cap then
    redis.call('LTRIM', KEYS[2], -cap, -1)
  end
end
redis.call('SPUBLISH', KEYS[3], message)
if ARGV[${tenant}] ~= '' and redis.call('SISMEMBER', KEYS[${hooked}], ARGV[${tenant}]) == 1 then
  redis.call('XADD', KEYS[${hooked + 1}], 'MAXLEN', '~', ${outboxCap}, '*', 'e', message, 'tags', redis.call('HGET', KEYS[1], 'tags') or '')
end
`;

/** How many events an execution keeps (older ones are trimmed; replay then says `truncated`). */
export const eventLogCap = 1000;
/** Its log's entries: one fewer, as its record holds event 1 (gone too once the log is trimmed past event 2). */
export const loggedEventsCap = eventLogCap - 1;

/** A stored event's head as a Lua string literal: the types a script writes make its heads constants. */
const storedHeadLiteral = (type: EventType) => `'${storedEventHead(type)}'`;

/** About how many unrelayed events a queue's outbox holds (the relay keeps it near empty). */
export const outboxCap = 100_000;

/** A minute's stats hash lives this long: the last hour is read, the rest is margin. */
export const queueStatsTtlSeconds = 2 * 60 * 60;
/** Waits to start are counted in buckets a quarter of an octave wide: bucket `b ≥ 1` holds [2^((b-1)/4), 2^(b/4)) ms, bucket 0 under 1 ms. */
export const waitBucketsPerOctave = 4;

// Adds one to a field of the minute's stats hash, KEYS[7]; its lifetime is set as a field gets its first count (a few times a minute).
const countInMinute = (field: string) =>
  `if redis.call('HINCRBY', KEYS[7], ${field}, 1) == 1 then redis.call('EXPIRE', KEYS[7], ${queueStatsTtlSeconds}) end`;

// Moves the record (id in the Lua variable `id`, task in `task`) from status `before` to `after` in
// the status indexes and counters, and counts an ending (completed, failed) in the minute's stats. The
// caller knows both statuses (it read one and wrote the other), so this reads nothing. The indexes are
// named by the record's status and task (see RedisKeys.statusIndex); lists read those of the tasks in
// the tenant's set, which a new execution's task joins, and so does an earlier version's as it leaves
// that version's index of its status (`<prefix><status>`).
// Expects: tenant's and queue's status counters KEYS[4] and KEYS[5], queue's finished executions
// KEYS[6], the minute's stats KEYS[7], the tenant's status indexes' prefix KEYS[INDEXES] and its tasks
// KEYS[INDEXES + 1]; now (ms) at ARGV[NOW].
const followStatus = (indexes: number, now: number) => `
if after and before ~= after then
  local ended = { completed = true, failed = true, cancelled = true }
  if before then
    redis.call('ZREM', KEYS[${indexes}] .. before .. ':task:' .. task, id)
    if redis.call('ZREM', KEYS[${indexes}] .. before, id) == 1 then redis.call('SADD', KEYS[${indexes + 1}], task) end
    redis.call('HINCRBY', KEYS[4], before, -1)
    redis.call('HINCRBY', KEYS[5], before, -1)
  else
    redis.call('SADD', KEYS[${indexes + 1}], task)
  end
  redis.call('ZADD', KEYS[${indexes}] .. after .. ':task:' .. task, 0, id)
  redis.call('HINCRBY', KEYS[4], after, 1)
  redis.call('HINCRBY', KEYS[5], after, 1)
  if ended[after] then
    redis.call('ZADD', KEYS[6], ARGV[${now}], id)
    if after ~= 'cancelled' then ${countInMinute('after')} end
  elseif ended[before] then
    redis.call('ZREM', KEYS[6], id)
  end
end
`;

/** The statuses an append applies in, as the event script reads them (",a,b,"; "": in any). */
export const onlyWhile = (statuses: readonly ExecutionStatus[]): string => (statuses.length > 0 ? `,${statuses.join(',')},` : '');

const appendEvent = `
-- KEYS: record, event log, events channel, tenant's status counters, queue's status counters,
--       queue's finished executions (id → when it ended), the minute's stats, the queue's hooked
--       tenants, its outbox, the tenant's status indexes' prefix in the queue, the tenant's tasks there
-- ARGV: mode (create | update | update@<seq>: only while the record's seq is that, no event written
--       since its writer read it | fields: no event), route line, envelope head (up to "seq":),
--       envelope tail, log cap, now (ms),
--       only-from statuses (",a,b,": apply only while the status is one of them; "" = always),
--       tenant for the outbox ("" = none), stored head, the execution's id, stored tail, field/value pairs…
-- A record always holds its status and task (a create's fields give them): without one there is no record.
local record = redis.call('HMGET', KEYS[1], 'status', 'task', 'seq')
local before, task = record[1], record[2] or ''
local id, after = ARGV[10], before
if ARGV[1] ~= 'create' and not before then return -1 end
-- A record is created once: another create (two workers adopting one job) writes and publishes nothing.
if ARGV[1] == 'create' and before then return -1 end
if ARGV[7] ~= '' and not string.find(ARGV[7], ',' .. (before or '') .. ',', 1, true) then return -2 end
if string.sub(ARGV[1], 1, 7) == 'update@' and record[3] ~= string.sub(ARGV[1], 8) then return -2 end
if #ARGV > 11 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 12))
  for i = 12, #ARGV - 1, 2 do
    if ARGV[i] == 'status' then after = ARGV[i + 1] end
    if ARGV[i] == 'task' then task = ARGV[i + 1] end
  end
end
${followStatus(10, 6)}if ARGV[1] == 'fields' then return 0 end
-- A record's first event is its own, not its log's (see readEventLog).
${numberAndPublish(2, 8, 8, { logged: "ARGV[1] ~= 'create'", stored: 'ARGV[9]', storedTail: 'ARGV[11]' })}return seq
`;

// One of BullMQ's scripts that move a job (`moveToActive`, which picks the next job, and
// `moveToFinished`, which ends one and may pick the next) as it is, then, in the same step, the
// events of the executions it moved: the ending of the execution it ended (`moveToFinished`, when it
// was handed one), and the start of the execution it picked. A job's end and its execution's ending,
// and its start and its execution's, are one write each, and need no round trip of their own.
// Both build their execution's keys from the templates (see startTemplates): the job's id names it.
// KEYS: BullMQ's.
// ARGV: BullMQ's, then the ending's when there is one (see endingAfterBullmq), then the keys'
//       prefix, the queue, the tasks the worker runs (",a,b,"), now (ISO: BullMQ's timestamp), how
//       many of them are BullMQ's.
// Returns { BullMQ's reply, the ending's seq, or why it was not written (-1, -2), the start's reply
// (as startAttempt's) }; false for an ending not handed or not written and a start not recorded
// (no job picked, no record, a tenant with maxRunning) or failed. What fails after BullMQ's move
// leaves it standing, as any script's writes: the worker then records the event as it would without
// this step.
const withEvents = ({ content }: BullmqScript, { ending, jobFormat }: { ending: boolean; jobFormat: number }) => `
local function bullmq()
${content}
end
${startAttemptFunction}
local reply = bullmq()
local last = #ARGV
local seq, start = false, false
${ending ? endingAfterBullmq : ''}
-- A picked job comes as { its fields, its id, … }; its attempt is the one after those made. A job
-- whose data is of a newer format than the worker reads (Conveyor writes its version first) is
-- refused by the worker: its start is not recorded.
if type(reply) == 'table' and type(reply[2]) == 'string' then
  local attemptsMade, newer = 0, false
  for i = 1, #reply[1], 2 do
    local field, value = reply[1][i], reply[1][i + 1]
    if field == 'atm' then attemptsMade = tonumber(value) or 0 end
    if field == 'data' then newer = (tonumber(string.match(value, '^{"v":(%d+)[,}]')) or 0) > ${jobFormat} end
  end
  if not newer then
    local names = { prefix = ARGV[last - 4], queue = ARGV[last - 3], id = reply[2] }
    local started, state = pcall(startAttempt, names, tonumber(ARGV[2]), ARGV[last - 1], attemptsMade + 1, true, ARGV[last - 2])
    if started then start = state end
  end
end
return { reply, seq, start }
`;

// The ending's append (as conveyorAppendEvent's update, only while the record is active), after
// BullMQ's end of its job (see withEvents), for the execution that the job's id (ARGV[1]) names, as
// it ended (ARGV[2], BullMQ's timestamp).
// ARGV after BullMQ's: the tenant, route line, envelope head, envelope tail, stored head, stored
// tail, field/value pairs… (see ExecutionStore.endingArgs)
const endingAfterBullmq = `
local function appendEvent(KEYS, ARGV)
${appendEvent}
end
local bullmqArgs = tonumber(ARGV[last])
-- BullMQ refuses with a negative number (the job gone, its lock lost): nothing moved, nothing to record.
if last - 5 > bullmqArgs and (reply == 0 or type(reply) == 'table') then
  -- The ending's arguments follow BullMQ's.
  local e, now = bullmqArgs, tonumber(ARGV[2])
  local names = { prefix = ARGV[last - 4], queue = ARGV[last - 3], id = ARGV[1], tenant = ARGV[e + 1], minute = math.floor(now / 60000) }
  local appended, appendedSeq = pcall(appendEvent, startTemplates.keys(names), {
    'update', ARGV[e + 2], ARGV[e + 3], ARGV[e + 4], ${loggedEventsCap}, now, '${onlyWhile(activeStatuses)}',
    names.tenant, ARGV[e + 5], ARGV[1], ARGV[e + 6], unpack(ARGV, e + 7, last - 5) })
  if appended then seq = appendedSeq end
end`;

// The creation of an execution: its record with event 1 (as conveyorAppendEvent's create), the
// queue's tenants (every time, not once per process: after Redis lost data, a process's memory of it
// would hide the tenant's new executions from an admin's lists) and the execution's list indexes;
// then, in the same step, one of BullMQ's scripts
// that add a job (`addPrioritizedJob`, `addDelayedJob`, `addStandardJob`) as it is, adding its job when
// one is given. A worker never meets the job without its record, and a submission costs one script
// call, as a plain `add` does. A record that exists already is left as it is, as a create refuses it.
// KEYS: BullMQ's, the create's (as conveyorAppendEvent's), the queue's tenants, the list indexes.
// ARGV: BullMQ's, the create's (as conveyorAppendEvent's), the tenant, how many of them are BullMQ's.
// Returns BullMQ's reply (0 without a job).
const withRecord = (job?: BullmqScript) => {
  const keys = job?.keys ?? 0;
  return `
${job ? `local function bullmq()
${job.content}
end` : ''}
local function appendEvent(KEYS, ARGV)
${appendEvent}
end
local last = #ARGV
local id = ARGV[tonumber(ARGV[last]) + 10]
appendEvent({ unpack(KEYS, ${keys + 1}, ${keys + executionEventKeyCount}) }, { unpack(ARGV, tonumber(ARGV[last]) + 1, last - 2) })
redis.call('SADD', KEYS[${keys + executionEventKeyCount + 1}], ARGV[last - 1])
for i = ${keys + executionEventKeyCount + 2}, #KEYS do redis.call('ZADD', KEYS[i], 0, id) end
return ${job ? 'bullmq()' : '0'}
`;
};

// Placeholders in the templates the start builds its keys and event envelopes from (see startTemplates).
const placeholder = (name: string) => `@${name}@`;

/**
 * A template's filling as a Lua expression: its text as literals joined (`..`, one string made) with
 * the Lua expression `valueOf(name)` in place of each placeholder (`"@name@"`, quotes and all, when
 * `quoted`). Made once; filling by concatenation costs Redis a fraction of a pattern's substitution.
 */
function filling(template: string, valueOf: (name: string) => string, quoted = false): string {
  const literal = (text: string) => {
    if (/[\\'\x00-\x1f]/.test(text)) throw new Error(`A start template needs escaping: ${text}`);
    return `'${text}'`;
  };
  const parts = template.split(quoted ? /"@([a-z]+)@"/ : /@([a-z]+)@/);
  return parts.flatMap((part, i) => (i % 2 === 1 ? [valueOf(part)] : part === '' ? [] : [literal(part)])).join(' .. ');
}

/**
 * The start's keys and envelopes as Lua functions that fill in the execution the script finds (a
 * fetched job's id names it only once BullMQ has picked it): made once from templates that the key
 * builder and the one encoder make from placeholders, so that they write exactly what those would.
 * Keys take the execution's names (prefix, queue, id, tenant, minute), envelopes its JSON values
 * (queue, id, tenant, task, schedule, ts, attempt). A Lua table literal.
 */
function startTemplates(): string {
  const keys = new RedisKeys(placeholder('prefix'));
  const [queue, id, tenant, minute] = ['queue', 'id', 'tenant', 'minute'].map(placeholder);
  const named = (template: string) => filling(template, (name) => `n.${name}`);
  const filled = (...templates: string[]) => `function(v) return ${templates.map((template) => filling(template, (name) => `v.${name}`, true)).join(', ')} end`;
  const envelopes = (scheduleId: string | undefined) => {
    const subject = { executionId: id, scheduleId, queue, task: placeholder('task'), tenant };
    // The attempt is a number: its placeholder, a string here, is filled in with its quotes.
    const started = encodeNumbered({ ...subject, type: 'execution.started', data: { attempt: placeholder('attempt') as never } }, placeholder('ts'));
    const recovered = encodeNumbered({ ...subject, type: 'execution.recovered', data: { attempt: placeholder('attempt') as never } }, placeholder('ts'));
    const retried = encodeNumbered({ ...subject, type: 'execution.retried', data: {} }, placeholder('ts'));
    return `{
    started = ${filled(started.route, started.head, started.tail)},
    recovered = ${filled(recovered.route, recovered.head, recovered.tail)},
    retried = ${filled(retried.route, retried.head, retried.tail)},
  }`;
  };
  return `{
  record = function(n) return ${named(keys.execution(queue, id))} end,
  keys = function(n) return { ${[...keys.executionEventKeys(queue, id, tenant, minute), keys.executionCheckpoint(queue, id)].map(named).join(', ')} } end,
  limited = function(n) return ${named(keys.limitedTenants(queue))} end,
  unscheduled = ${envelopes(undefined)},
  scheduled = ${envelopes(placeholder('schedule'))},
}`;
}

// What a worker needs as it picks an execution up, read as it records the start in the same step:
// `execution.recovered` when the record still says running (its worker vanished), else
// `execution.started`, after `execution.retried` when the record had ended (its job was run
// again outside Conveyor: retried in Bull Board before the worker that reports it heard of it).
// Nothing is written while a pause is pending (the worker parks the job), nor, when asked
// (`unlessLimited`), for a tenant with `maxRunning` (its worker takes a slot first), nor, when
// `tasks` (",a,b,") is given, for a task not among them (its worker refuses the job). The first
// start counts its wait in the minute's stats: from when it was due (its runAt, when later than its
// submission). The execution is named by `names` (prefix, queue, id); the record says the rest
// (tenant, task, schedule), and the script builds the keys and envelopes from the templates.
// Returns { seq (0: nothing written), status, pendingAction, startedAt, waitingFor, checkpoint };
// false when there is no record, or nothing was written for a limited tenant or another task.
const startAttemptFunction = `
local startTemplates = ${startTemplates()}
local function startAttempt(names, now, ts, attempt, unlessLimited, tasks)
  local state = redis.call('HMGET', startTemplates.record(names), 'status', 'pendingAction', 'startedAt', 'waitingFor', 'createdAt', 'runAt', 'tenant', 'task', 'scheduleId')
  local before, pending, startedAt, waitingFor, id, task = state[1], state[2], state[3], state[4], names.id, state[8] or ''
  if not before or (tasks and not string.find(tasks, ',' .. task .. ',', 1, true)) then return false end
  -- A record leaves out the default tenant (see encodeRecordFields).
  names.tenant, names.minute = state[7] or '${defaultTenant}', math.floor(now / 60000)
  if unlessLimited and redis.call('SISMEMBER', startTemplates.limited(names), names.tenant) == 1 then return false end
  local KEYS = startTemplates.keys(names)
  local checkpoint = redis.call('GET', KEYS[#KEYS])
  if pending == 'pause' then return { 0, before, pending, startedAt, waitingFor, checkpoint } end
  local function quoted(text)
    if not string.find(text, '[%c"\\\\]') then return '"' .. text .. '"' end
    return '"' .. string.gsub(text, '[%c"\\\\]', function(c) return string.format('\\\\u%04x', string.byte(c)) end) .. '"'
  end
  local scheduleId = state[9] or ''
  local values = { queue = quoted(names.queue), id = quoted(id), tenant = quoted(names.tenant), task = quoted(task),
    schedule = quoted(scheduleId), ts = quoted(ts), attempt = attempt }
  local envelopes = startTemplates.unscheduled
  if scheduleId ~= '' then envelopes = startTemplates.scheduled end
  -- The start's envelope at 1–3 and the retry's at 7–9, each filled in as it is written.
  local ARGV = { false, false, false, ${loggedEventsCap}, now, attempt, false, false, false, ${loggedEventsCap}, names.tenant }
  -- The record's changes, written by one HSET.
  local fields = { 'status', 'running', 'attemptsMade', ARGV[6] }
  local function set(field, value) fields[#fields + 1] = field; fields[#fields + 1] = value end
  if before == 'completed' or before == 'failed' or before == 'cancelled' then
    for _, field in ipairs({ 'error', 'finishedAt', 'pendingAction', 'cancelReason' }) do set(field, '') end
    ARGV[7], ARGV[8], ARGV[9] = envelopes.retried(values)
    ${numberAndPublish(7, 11, 8, { stored: storedHeadLiteral('execution.retried') })}
  end
  if not startedAt or startedAt == '' then
    set('startedAt', ARGV[5])
    local due = math.max(tonumber(state[5]) or now, tonumber(state[6]) or 0)
    local wait, bucket = now - due, 0
    if wait >= 1 then bucket = math.floor(math.log(wait) / math.log(2) * ${waitBucketsPerOctave}) + 1 end
    ${countInMinute("'w' .. bucket")}
  end
  if waitingFor and waitingFor ~= '' then set('waitingFor', '') end
  redis.call('HSET', KEYS[1], unpack(fields))
  local after = 'running'
  ${followStatus(10, 5)}
  -- A recovery is announced in place of the start.
  local storedHead = ${storedHeadLiteral('execution.started')}
  if before == 'running' then
    ARGV[1], ARGV[2], ARGV[3] = envelopes.recovered(values)
    storedHead = ${storedHeadLiteral('execution.recovered')}
  else
    ARGV[1], ARGV[2], ARGV[3] = envelopes.started(values)
  end
  ${numberAndPublish(1, 11, 8, { stored: 'storedHead' })}return { seq, before, pending, startedAt, waitingFor, checkpoint }
end
`;

const startAttempt = `
-- KEYS: the record (the script names the execution's keys itself; this one routes the call on a cluster)
-- ARGV: the keys' prefix, the queue, the execution's id, now (ms), now (ISO), the attempt
${startAttemptFunction}
return startAttempt({ prefix = ARGV[1], queue = ARGV[2], id = ARGV[3] }, tonumber(ARGV[4]), ARGV[5], ARGV[6], false) or { 0 }
`;

/**
 * The fields of an execution's record that say whom its events are about (its log's entries leave
 * that out) and make its event 1, in the order `conveyorReadExecutionEvents` returns their values.
 */
export const firstEventFields = ['status', 'task', 'tenant', 'scheduleId', 'createdAt', 'priority', 'firstEvent'] as const;
/** Their values (`null`: absent); in a page of events, then the job's `returnvalue` when the page holds a completion. */
export type FirstEventFields = (string | null)[];

const readEventLog = `
-- KEYS: event log, and for an execution's log its record and its job. ARGV: since (seq), limit
-- Returns { the oldest seq the log holds (0: empty), { events with seq > since, oldest first, at most
-- limit } }, and for an execution's log its record's fields (${firstEventFields.join(', ')}, then its
-- job's returnvalue when the page holds a completion, which is stored without it), then 1 when the
-- page starts with event 1, which is the record's, not its log's (the log's first seq is then 1);
-- { 0, {} } when the record is gone. Logs that earlier versions wrote hold their event 1.
-- A list's first entry names its seq: the envelope's fields before \`seq\` are names the server set,
-- and a quote inside any JSON string is escaped, so the first \`"seq":\` is the envelope's.
local since, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local record = false
if KEYS[2] then
  record = redis.call('HMGET', KEYS[2], ${firstEventFields.map((field) => `'${field}'`).join(', ')})
  if not record[1] then return { 0, {} } end
end
local page
if redis.call('TYPE', KEYS[1]).ok == 'stream' then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  if #first == 0 then return { 0, {}, record } end
  local events = {}
  for i, entry in ipairs(redis.call('XRANGE', KEYS[1], '(' .. since .. '-0', '+', 'COUNT', limit)) do events[i] = entry[2][2] end
  page = { tonumber(string.match(first[1][1], '^%d+')), events, record }
else
  local first = redis.call('LINDEX', KEYS[1], 0)
  local firstSeq = first and tonumber(string.match(first, '"seq":(%d+)')) or 0
  if record and since < 1 and (firstSeq == 0 or firstSeq == 2) then
    local rest = {}
    if limit > 1 then rest = redis.call('LRANGE', KEYS[1], 0, limit - 2) end
    page = { 1, rest, record, 1 }
  elseif not first then
    return { 0, {}, record }
  else
    local from = math.max(0, since + 1 - firstSeq)
    page = { firstSeq, redis.call('LRANGE', KEYS[1], from, from + limit - 1), record }
  end
end
if KEYS[3] then
  local completion = ${storedHeadLiteral('execution.completed')}
  for _, entry in ipairs(page[2]) do
    if string.sub(entry, 1, #completion) == completion then
      record[${firstEventFields.length + 1}] = redis.call('HGET', KEYS[3], 'returnvalue') or false
      break
    end
  end
end
return page
`;

const appendScheduleEvent = `
-- KEYS: schedule record, event log, events channel, the queue's hooked tenants, its outbox, its open claims
-- ARGV: mode (create | update | update@<updatedAt>: only while the record's is that), route line,
--       envelope head (up to "seq":), envelope tail, log cap, tenant for the outbox, the tick whose
--       claim the event settles ("" = none: see claimScheduleRun), field/value pairs…
if ARGV[1] ~= 'create' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
  if string.sub(ARGV[1], 1, 7) == 'update@' and redis.call('HGET', KEYS[1], 'updatedAt') ~= string.match(ARGV[1], '^update@(%d+)$') then
    return -1
  end
end
if #ARGV > 7 then redis.call('HSET', KEYS[1], unpack(ARGV, 8)) end
if ARGV[7] ~= '' then redis.call('ZREM', KEYS[6], ARGV[7]) end
${numberAndPublish(2, 6, 4)}return seq
`;

const claimScheduleRun = `
-- KEYS: schedule record, its open claims (tick time → when claimed). ARGV: claim | release, tick time,
--       limit ("" = none), now (ms)
-- A tick claims its run before it submits, so that two late ticks processed at once never both take
-- the last one; the claim is the tick's own, so a tick run again after its worker died goes on with
-- it instead of counting twice. Returns { run count, 1 when the claim was there already }, or
-- { -1 } at the limit, { -2 } when the schedule is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return { -2, 0 } end
local open = redis.call('ZSCORE', KEYS[2], ARGV[2])
if ARGV[1] == 'release' then
  if not open then return { 0, 0 } end
  redis.call('ZREM', KEYS[2], ARGV[2])
  return { redis.call('HINCRBY', KEYS[1], 'runCount', -1), 0 }
end
local count = tonumber(redis.call('HGET', KEYS[1], 'runCount') or '0')
if open then return { count, 1 } end
if ARGV[3] ~= '' and count >= tonumber(ARGV[3]) then return { -1, 0 } end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
return { redis.call('HINCRBY', KEYS[1], 'runCount', 1), 0 }
`;

const forgetExecution = `
-- KEYS: record, event log, log lines, checkpoint, tenant's status counters, queue's status counters,
--       queue's finished executions, the tenant's status indexes' prefix in the queue
-- ARGV: the execution's id
-- Only the call that deletes the record takes it out of the counters: removing twice counts once.
local record, id = redis.call('HMGET', KEYS[1], 'status', 'task'), ARGV[1]
local status = record[1]
if not status then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[8] .. status .. ':task:' .. (record[2] or ''), id)
-- An earlier version's index of the status (see followStatus).
redis.call('ZREM', KEYS[8] .. status, id)
redis.call('HINCRBY', KEYS[5], status, -1)
redis.call('HINCRBY', KEYS[6], status, -1)
redis.call('ZREM', KEYS[7], id)
return 1
`;

// Drops from the tenant's tasks in a queue (whose status indexes lists read) each task with no execution
// left in any status, so that lists stop reading a retired task's indexes. An execution made meanwhile
// adds its task again in its own step: this one runs before or after it, never between.
// KEYS: the tenant's tasks in the queue, the prefix of its status indexes. Returns how many it dropped.
const pruneIndexedTasks = `
local dropped = 0
for _, task in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local held = false
  for _, status in ipairs({ ${executionStatuses.map((status) => `'${status}'`).join(', ')} }) do
    if redis.call('EXISTS', KEYS[2] .. status .. ':task:' .. task) == 1 then held = true break end
  end
  if not held then dropped = dropped + redis.call('SREM', KEYS[1], task) end
end
return dropped
`;

const changeWebhook = `
-- KEYS: a webhook endpoint. ARGV: new secret ('' = keep), the old secret's overlap end ('' = none),
-- "not if delivered since" ms ('' = always), then field/value pairs.
-- Writes only the given fields, and only while the endpoint exists (a change racing a DELETE must not
-- recreate it); a rotation takes the old secret from the record itself, so a concurrent change cannot
-- bring it back. Returns the record after the change, 0 when the endpoint is gone, 1 when it
-- delivered since the given time (nothing written).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'lastDeliveredAt') or '0') >= tonumber(ARGV[3]) then return 1 end
if ARGV[1] ~= '' then
  local old = redis.call('HGET', KEYS[1], 'secret')
  if ARGV[2] == '' then old = '' end
  redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'previousSecret', old, 'previousSecretUntil', ARGV[2])
end
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
return redis.call('HGETALL', KEYS[1])
`;

const addWebhookDelivery = `
-- KEYS: a webhook endpoint, its deliveries index, its delivery records. ARGV: delivery id, its record,
-- its index member, the log's cap. Adds the delivery unless it is there already or the endpoint is
-- gone (no orphan log for a deleted endpoint); the oldest beyond the cap go. Returns 1 when added.
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    redis.call('ZREM', KEYS[2], member)
    redis.call('HDEL', KEYS[3], string.sub(member, string.find(member, '/', 1, true) + 1))
  end
end
return 1
`;

const appendLog = `
-- KEYS: log lines, events channel. ARGV: stored line, cap, live event
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('SPUBLISH', KEYS[2], ARGV[3])
return 1
`;

const admitExecutions = `
-- KEYS: the tenant's new executions of the last second (sorted set: entry → ms), its count of the day
-- ARGV: how many, per-second limit ("" = none), per-day limit ("" = none), the day counter's lifetime (s),
--       a name unique to this call
-- All or nothing, so a refused batch counts nothing. Returns { 0 admitted | 1 over the per-second limit |
-- 2 over the day's, new executions in the last second, today }, counting these when admitted.
-- Redis's clock times the window, so every gateway agrees on it.
local count = tonumber(ARGV[1])
local today = tonumber(redis.call('GET', KEYS[2]) or '0')
local recent, now = 0, 0
if ARGV[2] ~= '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
  recent = redis.call('ZCARD', KEYS[1])
  if recent + count > tonumber(ARGV[2]) then return { 1, recent, today } end
end
if ARGV[3] ~= '' and today + count > tonumber(ARGV[3]) then return { 2, recent, today } end
if count == 0 then return { 0, recent, today } end
if ARGV[2] ~= '' then
  for i = 1, count do redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i) end
  redis.call('PEXPIRE', KEYS[1], 1000)
end
today = redis.call('INCRBY', KEYS[2], count)
if today == count then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return { 0, recent + count, today }
`;

// A tenant's `maxRunning` slots. KEYS: its slots (member → lease end, +inf while reserved), its
// reservations (member → when to check on the job), its held executions (member → priority).
// `dispatch` frees the slots whose lease ran out (their worker died), then reserves the free slots
// for the best held executions (lowest priority number, then oldest id) and returns them: their jobs
// are to be promoted. Without a limit (max '') it gives out nothing: the reconciliation lets them go.
const tenantSlots = `
local slots, reserved, held = KEYS[1], KEYS[2], KEYS[3]
local function dispatch(max, now, checkAt, batch)
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', '(' .. now)
  if max == '' then return {} end
  local take = math.min(batch, tonumber(max) - redis.call('ZCARD', slots))
  if take <= 0 then return {} end
  local chosen = redis.call('ZRANGE', held, 0, take - 1)
  for _, member in ipairs(chosen) do
    redis.call('ZREM', held, member)
    redis.call('ZADD', slots, '+inf', member)
    redis.call('ZADD', reserved, checkAt, member)
  end
  return chosen
end
`;

const admitToSlot = `${tenantSlots}
-- ARGV: member, priority, max, now, lease end, check time, batch
-- Returns { 1 when it runs now | 0 when it is held, then the members reserved for others, to promote… }
local member = ARGV[1]
if redis.call('ZSCORE', slots, member) then
  -- Reserved for it, or still its own from before its worker died.
  redis.call('ZADD', slots, ARGV[5], member)
  redis.call('ZREM', reserved, member)
  redis.call('ZREM', held, member)
  return { 1 }
end
-- It joins the held executions, and runs now only if a free slot comes to it before them.
redis.call('ZADD', held, ARGV[2], member)
local admitted, others = 0, {}
for _, chosen in ipairs(dispatch(ARGV[3], ARGV[4], ARGV[6], tonumber(ARGV[7]))) do
  if chosen == member then admitted = 1 else others[#others + 1] = chosen end
end
if admitted == 1 then
  redis.call('ZADD', slots, ARGV[5], member)
  redis.call('ZREM', reserved, member)
end
return { admitted, unpack(others) }
`;

const releaseSlot = `${tenantSlots}
-- ARGV: member, max ('' = none), now, check time, batch. Returns the members to promote.
redis.call('ZREM', slots, ARGV[1])
redis.call('ZREM', reserved, ARGV[1])
redis.call('ZREM', held, ARGV[1])
return dispatch(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]))
`;

const reconcileSlots = `${tenantSlots}
-- ARGV: max ('' = none), now, check time, batch
-- Returns the members to promote, then the reservations due for a check (the worker that was to
-- promote one may have died; or its job went away). Without a limit it returns every held execution
-- and reservation, each time, until the caller releases it (once its job is promoted or gone).
local batch = tonumber(ARGV[4])
local members, due
if ARGV[1] == '' then
  members = redis.call('ZRANGE', held, 0, batch - 1)
  due = redis.call('ZRANGE', reserved, 0, batch - 1)
else
  members = dispatch(ARGV[1], ARGV[2], ARGV[3], batch)
  due = redis.call('ZRANGEBYSCORE', reserved, '-inf', ARGV[2], 'LIMIT', 0, batch)
  for _, member in ipairs(due) do redis.call('ZADD', reserved, ARGV[3], member) end
end
for _, member in ipairs(due) do members[#members + 1] = member end
return members
`;

/**
 * The keys of an execution's event scripts, in order: record, event log, events channel, tenant's
 * and queue's status counters, queue's finished executions, the tenant's stats of this minute, the
 * queue's hooked tenants and outbox, the prefix of the tenant's status indexes (see RedisKeys.statusIndex)
 * and the tenant's tasks that have them.
 */
export type ExecutionEventKeys = [
  record: string,
  eventLog: string,
  channel: string,
  statusCounts: string,
  queueStatusCounts: string,
  finished: string,
  minuteStats: string,
  hooked: string,
  outbox: string,
  statusIndexPrefix: string,
  indexedTasks: string,
];

const holdLock = `
-- KEYS: a lock; ARGV: its holder's token, how much longer it holds it (ms; 0: it lets go)
-- Only while it is the holder's: a lock that lapsed may be another process's now. Returns 1 if so.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('DEL', KEYS[1])
`;

/** How many keys an execution's event scripts take (`ExecutionEventKeys`). */
export const executionEventKeyCount = 11;

/** A start's reply: its seq (0: nothing written), then what the worker needs (see startAttemptFunction); `[0]` without a record. */
export type StartReply = [seq: number, status?: string | null, pendingAction?: string | null, startedAt?: string | null, waitingFor?: string | null, checkpoint?: string | null];
/** BullMQ's reply, the ending's seq and the picked job's start, each `null` when there is none (see withEvents). */
export type JobMoveReply = [reply: unknown, seq: number | null, start: StartReply | null];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    conveyorAppendEvent(
      ...args: [
        ...ExecutionEventKeys,
        mode: 'create' | 'update' | `update@${number}` | 'fields',
        route: string,
        head: string,
        tail: string,
        cap: number,
        now: number,
        onlyFrom: string,
        outboxTenant: string,
        storedHead: string,
        id: string,
        storedTail: string,
        ...fields: string[],
      ]
    ): Result<number, Context>;
    conveyorStartAttempt(record: string, prefix: string, queue: string, id: string, now: number, ts: string, attempt: number): Result<StartReply, Context>;
    /** BullMQ's `moveToActive` or `moveToFinished`, with the events of the executions it moved (see withEvents). */
    conveyorFetch(numberOfKeys: number, ...args: (string | number | Buffer)[]): Result<JobMoveReply, Context>;
    conveyorFinish(numberOfKeys: number, ...args: (string | number | Buffer)[]): Result<JobMoveReply, Context>;
    /** An execution's creation without its job, then with it by BullMQ's `addPrioritizedJob`, `addDelayedJob` or `addStandardJob` (see withRecord). */
    conveyorCreateExecution(numberOfKeys: number, ...args: (string | number)[]): Result<0, Context>;
    conveyorAddPrioritizedJob(numberOfKeys: number, ...args: (string | number | Buffer)[]): Result<unknown, Context>;
    conveyorAddDelayedJob(numberOfKeys: number, ...args: (string | number | Buffer)[]): Result<unknown, Context>;
    conveyorAddStandardJob(numberOfKeys: number, ...args: (string | number | Buffer)[]): Result<unknown, Context>;
    conveyorAppendScheduleEvent(
      record: string,
      eventLog: string,
      channel: string,
      hooked: string,
      outbox: string,
      claims: string,
      mode: 'create' | 'update' | `update@${number}`,
      route: string,
      head: string,
      tail: string,
      cap: number,
      outboxTenant: string,
      settledClaim: number | '',
      ...fields: string[]
    ): Result<number, Context>;
    conveyorClaimScheduleRun(record: string, claims: string, action: 'claim' | 'release', tickMs: number, limit: number | '', now: number): Result<[number, number], Context>;
    conveyorChangeWebhook(endpoint: string, newSecret: string, overlapUntil: number | '', notIfDeliveredSince: number | '', ...fields: string[]): Result<0 | 1 | string[], Context>;
    conveyorAddWebhookDelivery(endpoint: string, index: string, records: string, deliveryId: string, record: string, member: string, cap: number): Result<number, Context>;
    conveyorReadEventLog(log: string, since: number, limit: number): Result<[firstSeq: number, events: string[]], Context>;
    conveyorReadExecutionEvents(
      log: string,
      record: string,
      job: string,
      since: number,
      limit: number,
    ): Result<[firstSeq: number, events: string[], record?: FirstEventFields, withFirstEvent?: 1], Context>;
    conveyorAppendLog(lines: string, channel: string, line: string, cap: number, event: string): Result<number, Context>;
    conveyorHoldLock(lock: string, token: string, ms: number): Result<0 | 1, Context>;
    conveyorAdmitExecutions(
      recent: string,
      today: string,
      count: number,
      perSecond: number | '',
      perDay: number | '',
      dayTtlSeconds: number,
      unique: string,
    ): Result<[0 | 1 | 2, number, number], Context>;
    conveyorAdmitToSlot(
      slots: string,
      reserved: string,
      held: string,
      member: string,
      priority: number,
      max: number,
      now: number,
      leaseEnd: number,
      checkAt: number,
      batch: number,
    ): Result<[number, ...string[]], Context>;
    conveyorReleaseSlot(slots: string, reserved: string, held: string, member: string, max: number | '', now: number, checkAt: number, batch: number): Result<string[], Context>;
    conveyorReconcileSlots(slots: string, reserved: string, held: string, max: number | '', now: number, checkAt: number, batch: number): Result<string[], Context>;
    conveyorForgetExecution(
      ...args: [record: string, events: string, logs: string, checkpoint: string, statusCounts: string, queueStatusCounts: string, finished: string, statusIndexPrefix: string, id: string]
    ): Result<number, Context>;
    conveyorPruneIndexedTasks(indexedTasks: string, statusIndexPrefix: string): Result<number, Context>;
  }
}

const withScripts = new WeakSet<Redis>();
const withJobMoveScripts = new WeakSet<Redis>();
const withJobAddScripts = new WeakSet<Redis>();

/** Registers the scripts on a connection (once); ioredis then calls them by SHA. */
export function defineConveyorScripts(redis: Redis): Redis {
  if (!withScripts.has(redis)) {
    redis.defineCommand('conveyorAppendEvent', { numberOfKeys: executionEventKeyCount, lua: appendEvent });
    redis.defineCommand('conveyorCreateExecution', { lua: withRecord() });
    redis.defineCommand('conveyorStartAttempt', { numberOfKeys: 1, lua: startAttempt });
    redis.defineCommand('conveyorAppendScheduleEvent', { numberOfKeys: 6, lua: appendScheduleEvent });
    redis.defineCommand('conveyorClaimScheduleRun', { numberOfKeys: 2, lua: claimScheduleRun });
    redis.defineCommand('conveyorReadEventLog', { numberOfKeys: 1, lua: readEventLog });
    redis.defineCommand('conveyorReadExecutionEvents', { numberOfKeys: 3, lua: readEventLog });
    redis.defineCommand('conveyorChangeWebhook', { numberOfKeys: 1, lua: changeWebhook });
    redis.defineCommand('conveyorAddWebhookDelivery', { numberOfKeys: 3, lua: addWebhookDelivery });
    redis.defineCommand('conveyorAppendLog', { numberOfKeys: 2, lua: appendLog });
    redis.defineCommand('conveyorHoldLock', { numberOfKeys: 1, lua: holdLock });
    redis.defineCommand('conveyorForgetExecution', { numberOfKeys: 8, lua: forgetExecution });
    redis.defineCommand('conveyorPruneIndexedTasks', { numberOfKeys: 2, lua: pruneIndexedTasks });
    redis.defineCommand('conveyorAdmitExecutions', { numberOfKeys: 2, lua: admitExecutions });
    redis.defineCommand('conveyorAdmitToSlot', { numberOfKeys: 3, lua: admitToSlot });
    redis.defineCommand('conveyorReleaseSlot', { numberOfKeys: 3, lua: releaseSlot });
    redis.defineCommand('conveyorReconcileSlots', { numberOfKeys: 3, lua: reconcileSlots });
    withScripts.add(redis);
  }
  return redis;
}

/** Conveyor's commands that run BullMQ's scripts adding a job after its execution's creation (see withRecord), by BullMQ's name of each. */
const jobAddCommands = { addPrioritizedJob: 'conveyorAddPrioritizedJob', addDelayedJob: 'conveyorAddDelayedJob', addStandardJob: 'conveyorAddStandardJob' } as const;

/** A command that runs one of BullMQ's scripts adding a job, after its execution's creation; BullMQ's script takes `keys` keys. */
export interface JobAddCommand {
  command: (typeof jobAddCommands)[keyof typeof jobAddCommands];
  keys: number;
}

/**
 * Registers (once) the commands that add a job with its execution's creation on a connection of
 * BullMQ's queues, and returns them by the name BullMQ calls each of its scripts (`addPrioritizedJob:<ver>`).
 */
export function defineJobAddScripts(redis: Redis): ReadonlyMap<string, JobAddCommand> {
  const commands = new Map<string, JobAddCommand>();
  for (const [name, command] of Object.entries(jobAddCommands)) {
    const script = bullmqScript(name);
    if (!withJobAddScripts.has(redis)) redis.defineCommand(command, { lua: withRecord(script) });
    commands.set(bullmqCommandName(script), { command, keys: script.keys });
  }
  withJobAddScripts.add(redis);
  return commands;
}

/** BullMQ's scripts that move jobs, as a worker's connection runs them with their executions' events. */
export interface JobMoveScripts {
  moveToActive: BullmqScript;
  moveToFinished: BullmqScript;
}

/**
 * Registers (once) `conveyorFetch` and `conveyorFinish`, BullMQ's `moveToActive` and `moveToFinished`
 * with the events of the executions they move, on a connection of a worker that records them so and
 * reads job data up to format `jobFormat`.
 */
export function defineJobMoveScripts(redis: Redis, { jobFormat }: { jobFormat: number }): JobMoveScripts {
  const scripts = { moveToActive: bullmqScript('moveToActive'), moveToFinished: bullmqScript('moveToFinished') };
  if (!withJobMoveScripts.has(redis)) {
    redis.defineCommand('conveyorFetch', { lua: withEvents(scripts.moveToActive, { ending: false, jobFormat }) });
    redis.defineCommand('conveyorFinish', { lua: withEvents(scripts.moveToFinished, { ending: true, jobFormat }) });
    withJobMoveScripts.add(redis);
  }
  return scripts;
}
