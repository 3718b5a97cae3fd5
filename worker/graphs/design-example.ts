/** The example graph of DESIGN.md ("Graphs and runs"), for tests that start from it. */
export const designExample = (): {
  entry: string;
  nodes: Record<string, unknown>[];
  edges: Record<string, unknown>[];
} => ({
  entry: 'ask',
  nodes: [
    { id: 'ask', type: 'human_input', prompt: 'Which product?', output_key: 'product' },
    { id: 'route', type: 'transform', set: { routed: true } },
    {
      id: 'lookup',
      type: 'tool',
      tool: 'http_get',
      args: { url: 'https://status.example.com/{{product}}' },
      output_key: 'status',
    },
    { id: 'answer', type: 'llm', prompt: 'Help with {{product}} given {{status}}', output_key: 'answer' },
  ],
  edges: [
    { from: 'ask', to: 'route' },
    {
      from: 'route',
      branches: [{ when: { field_equals: { field: 'product', value: 'vpn' } }, to: 'lookup' }],
      default: '__end__',
    },
    { from: 'lookup', branches: [{ when: { tool_error: true }, to: '__end__' }], default: 'answer' },
    { from: 'answer', to: '__end__' },
  ],
});
