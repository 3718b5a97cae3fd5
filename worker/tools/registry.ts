import { echoTool } from './echo';
import { failTool } from './fail';
import { httpGetTool } from './http-get';
import { jsonPathTool } from './json-path';
import type { Tool } from './tool';

export interface ToolRegistry {
  get(name: string): Tool | undefined;
  readonly names: readonly string[];
}

/** Graph validation checks tool names against this list, so it is exported on its own. */
export const BUILTIN_TOOL_NAMES = ['echo', 'http_get', 'json_path', 'fail'] as const;

/**
 * The built-in tools, optionally with replacements or additions (tests, or an `http_get` with other
 * limits). A later tool with the same name wins.
 */
export function createToolRegistry(extra: readonly Tool[] = []): ToolRegistry {
  const tools = new Map<string, Tool>();
  for (const tool of [echoTool, httpGetTool, jsonPathTool, failTool, ...extra]) tools.set(tool.name, tool);
  const names = Object.freeze([...tools.keys()]);
  return {
    get: (name) => tools.get(name),
    names,
  };
}
