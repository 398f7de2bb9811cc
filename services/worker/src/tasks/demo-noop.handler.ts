import { Injectable } from '@nestjs/common';
import type { demoNoop, DemoNoopInput, DemoNoopOutput } from '@conveyor/contracts';
import type { TaskHandler } from './task-handler.js';

@Injectable()
export class DemoNoopHandler implements TaskHandler<typeof demoNoop> {
  async run(input: DemoNoopInput): Promise<DemoNoopOutput> {
    return { ...input };
  }
}
