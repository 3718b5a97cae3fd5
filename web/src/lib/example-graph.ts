import type { Schema } from './api';

/** An example to start from: asks a person, then answers with the configured LLM. */
export const EXAMPLE_GRAPH: Schema<'CreateGraph'> = {
  name: 'Triage a product question',
  schema: {
    entry: 'ask',
    nodes: [
      {
        id: 'ask',
        type: 'human_input',
        prompt: 'Which product is the customer asking about?',
        output_key: 'product',
      },
      { id: 'triage', type: 'transform', set: { triaged: true, queue: 'support-{{product}}' } },
      {
        id: 'answer',
        type: 'llm',
        prompt: 'Suggest a first fix for a {{product}} problem.',
        output_key: 'answer',
      },
    ],
    edges: [
      { from: 'ask', to: 'triage' },
      { from: 'triage', to: 'answer' },
      { from: 'answer', to: '__end__' },
    ],
  },
};
