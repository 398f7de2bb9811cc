import { Controller, Get } from '@nestjs/common';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import { taskCatalog, type TaskView } from '@conveyor/contracts';

/** The catalogue as clients see it; input schemas come from the same classes that validate input. */
const catalogView = taskCatalog.map((task): TaskView => ({
  name: task.name,
  queue: task.queue,
  version: task.version,
  description: task.description,
  defaults: task.defaults,
  inputSchema: targetConstructorToSchema(task.input),
}));

@Controller('v1/tasks')
export class TasksController {
  @Get()
  list(): { items: TaskView[] } {
    return { items: catalogView };
  }
}
