// The demo account's graphs, and the status page one of them reads (served by the Worker in dev
// mode at /dev/demo-status/<product>, which `npm run dev` allow-lists for `http_get`).

/** A graph as `POST /v1/graphs` takes it. */
export interface DemoGraph {
  name: string;
  schema: { entry: string; nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };
}

/** Asks a person which product it is about (the run pauses), routes it, drafts a first reply. */
export const TRIAGE_GRAPH: DemoGraph = {
  name: 'Triage a new ticket',
  schema: {
    entry: 'ask_product',
    nodes: [
      {
        id: 'ask_product',
        type: 'human_input',
        prompt: 'Which product is this ticket about: vpn, sso, billing or exports?',
        output_key: 'product',
      },
      { id: 'route', type: 'transform', set: { queue: 'support-{{product}}', triaged: true } },
      {
        id: 'draft_reply',
        type: 'llm',
        system: 'You are a support engineer. Be brief and kind.',
        prompt: 'Draft a first reply to {{customer}} about their {{product}} problem: {{summary}}',
        output_key: 'draft',
      },
    ],
    edges: [
      { from: 'ask_product', to: 'route' },
      { from: 'route', to: 'draft_reply' },
      { from: 'draft_reply', to: '__end__' },
    ],
  },
};

/** Reads the product's status page (retrying a 5xx), then explains an incident or says all is well. */
export const statusGraph = (statusUrl: string): DemoGraph => ({
  name: 'Check the status page',
  schema: {
    entry: 'lookup',
    nodes: [
      {
        id: 'lookup',
        type: 'tool',
        tool: 'http_get',
        args: { url: `${statusUrl}/{{product}}` },
        output_key: 'status',
        retry: {
          max_attempts: 4,
          initial_interval_ms: 15_000,
          backoff_coefficient: 2,
          max_interval_ms: 60_000,
          retry_on: ['http_5xx', 'timeout'],
        },
      },
      {
        id: 'all_clear',
        type: 'transform',
        set: { reply: 'No incident on {{product}}: {{status.body.message}}' },
      },
      {
        id: 'explain',
        type: 'llm',
        prompt:
          'The status page says {{product}} is {{status.body.state}}: {{status.body.message}} Explain it to the customer in two sentences.',
        output_key: 'reply',
      },
    ],
    edges: [
      {
        from: 'lookup',
        branches: [
          { when: { field_equals: { field: 'status.body.state', value: 'operational' } }, to: 'all_clear' },
        ],
        default: 'explain',
      },
      { from: 'all_clear', to: '__end__' },
      { from: 'explain', to: '__end__' },
    ],
  },
});

/** One streamed LLM answer. */
export const ANSWER_GRAPH: DemoGraph = {
  name: 'Answer a how-to question',
  schema: {
    entry: 'answer',
    nodes: [
      {
        id: 'answer',
        type: 'llm',
        system: 'You are a support engineer. Answer in three short numbered steps.',
        prompt: '{{question}}',
        output_key: 'answer',
        stream: true,
      },
    ],
    edges: [{ from: 'answer', to: '__end__' }],
  },
};

/**
 * What the demo status page says about a product: an incident on the VPN, all well for SSO and
 * exports, the billing status service down (503, so the graph retries, then fails), and 404 for
 * anything else.
 */
export function demoStatus(product: string): { status: 200 | 404 | 503; body: Record<string, unknown> } {
  const now = new Date().toISOString();
  switch (product.toLowerCase()) {
    case 'vpn':
      return {
        status: 200,
        body: {
          product: 'vpn',
          state: 'degraded',
          message: 'Elevated packet loss on the EU-West VPN gateways; engineers are rerouting traffic.',
          updated_at: now,
        },
      };
    case 'sso':
    case 'exports':
      return {
        status: 200,
        body: { product, state: 'operational', message: 'all systems normal.', updated_at: now },
      };
    case 'billing':
      return { status: 503, body: { error: 'the billing status service is unavailable' } };
    default:
      return { status: 404, body: { error: `no status page for “${product.slice(0, 40)}”` } };
  }
}
