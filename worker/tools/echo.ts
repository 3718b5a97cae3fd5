import type { Tool } from './tool';

/** Returns its (already templated) arguments: handy for shaping state and for tests. */
export const echoTool: Tool = {
  name: 'echo',
  async run(args) {
    return structuredClone(args);
  },
};
