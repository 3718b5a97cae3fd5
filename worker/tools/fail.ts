import { type Tool, ToolError } from './tool';

/** Always fails, so graphs and tests can exercise `tool_error` routing deterministically. */
export const failTool: Tool = {
  name: 'fail',
  async run(args) {
    const message =
      typeof args.message === 'string' && args.message !== '' ? args.message : 'fail tool invoked';
    throw new ToolError('failed', message);
  },
};
