import { Controller, Get, Inject } from '@nestjs/common';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import type { AnyTask, TaskView } from '@conveyor/contracts';
import { Access, ApiRoute } from '@conveyor/service';
import { OFFERED_TASKS } from '../gateway-config.js';

/** The offered tasks as clients see them; input schemas come from the same classes that validate input. */
@Controller('v1/tasks')
@Access('read')
export class TasksController {
  private readonly catalogView: TaskView[];

  constructor(@Inject(OFFERED_TASKS) tasks: readonly AnyTask[]) {
    this.catalogView = tasks.map((task) => ({
      name: task.name,
      queue: task.queue,
      version: task.version,
      description: task.description,
      defaults: task.defaults,
      // A copy: the schema type is an interface, the view a plain JSON object.
      inputSchema: { ...targetConstructorToSchema(task.input) },
    }));
  }

  @Get()
  @ApiRoute({ summary: 'The task catalogue', answers: { 200: 'TaskItems' } })
  list(): { items: TaskView[] } {
    return { items: this.catalogView };
  }
}
