import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { defaultTenant, type ExecutionView } from '@conveyor/contracts';
import { ExecutionReader, ExecutionSubmitter } from '@conveyor/executions';
import { ApiError } from '@conveyor/service';
import { isInputTooLarge, validateSubmission } from './submission.js';

@Controller('v1/executions')
export class ExecutionsController {
  constructor(
    private readonly submitter: ExecutionSubmitter,
    private readonly reader: ExecutionReader,
  ) {}

  @Post()
  @HttpCode(202)
  async submit(@Body() body: unknown, @Res({ passthrough: true }) response: Response): Promise<ExecutionView> {
    if (isInputTooLarge(body)) throw ApiError.payloadTooLarge('The execution input is larger than 256 KiB.');
    const submission = validateSubmission(body);
    if (!submission.ok) throw ApiError.validation(submission.errors);
    const { task, input, options } = submission.value;
    const execution = await this.submitter.submit(task, input as never, options, defaultTenant);
    response.location(`/v1/executions/${execution.id}`);
    return execution;
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<ExecutionView> {
    const execution = await this.reader.get(id, defaultTenant);
    if (!execution) throw ApiError.notFound(`Execution ${id}`);
    return execution;
  }
}
