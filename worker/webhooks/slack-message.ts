import type { EscalationCard } from '../contract/events';

// `format: "slack"`: a Slack incoming-webhook message (https://api.slack.com/messaging/webhooks)
// instead of the Standard Webhooks body. `text` is the notification's fallback; `blocks` show the
// severity, the title, the age, who is asked, and a button that opens the card (or run) on the
// site at PUBLIC_URL. No button without PUBLIC_URL: Slack needs an absolute link.

type Block = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** Slack's mrkdwn treats these three as control characters. */
export const slackEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const SEVERITY_MARK: Record<string, string> = {
  urgent: ':red_circle: URGENT',
  high: ':large_orange_circle: High',
  normal: ':large_blue_circle: Normal',
  low: ':white_circle: Low',
};

const HEADLINE: Record<string, string> = {
  'escalation.created': 'New escalation',
  'escalation.assessed': 'Escalation assessed',
  'escalation.picked_up': 'Escalation picked up',
  'escalation.released': 'Escalation released back to the queue',
  'escalation.reescalated': 'Escalation re-escalated: still nobody on it',
  'escalation.sla_warning': 'SLA warning',
  'escalation.sla_breached': 'SLA breached',
  'escalation.resolved': 'Escalation resolved',
  'escalation.cancelled': 'Escalation cancelled',
  'run.paused': 'Run waiting for input',
  'run.completed': 'Run completed',
  'run.failed': 'Run failed',
};

/** "4 min", "2 h 5 min", "3 d": how long ago, in the words a person scans. */
export function ageText(fromIso: string, atMs: number): string {
  const seconds = Math.max(0, Math.round((atMs - Date.parse(fromIso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** Who the card asks now: `notify` once cards carry it (the escalation policy), else everyone. */
export function askedText(card: EscalationCard & { notify?: unknown }): string {
  const notify = card.notify;
  if (notify === 'admins') return 'admins';
  if (Array.isArray(notify)) return notify.length === 1 ? '1 named person' : `${notify.length} named people`;
  return 'everyone';
}

const button = (url: string, label: string): Block => ({
  type: 'actions',
  elements: [{ type: 'button', text: { type: 'plain_text', text: label }, url, style: 'primary' }],
});

const siteLink = (publicUrl: string | undefined, hash: string) =>
  publicUrl ? `${publicUrl.replace(/\/+$/, '')}/#/${hash}` : undefined;

export function slackMessage(type: string, data: unknown, atMs: number, publicUrl?: string): SlackMessage {
  const headline = HEADLINE[type] ?? type;
  if (type.startsWith('escalation.')) {
    const card = (data as { card: EscalationCard }).card;
    const severity = SEVERITY_MARK[card.severity] ?? card.severity;
    const title = slackEscape(card.session.title);
    const asked = askedText(card);
    const age = ageText(card.created_at, atMs);
    const link = siteLink(publicUrl, `handoffs/${encodeURIComponent(card.id)}`);
    const fields = [
      `*Severity*\n${severity}`,
      `*Status*\n${card.status.replace('_', ' ')}`,
      `*Age*\n${age}`,
      `*Asking*\n${asked}`,
    ];
    if (card.picked_up_by) fields.push(`*Picked up by*\n${slackEscape(card.picked_up_by.name)}`);
    return {
      text: `${headline} (${card.severity}): ${card.session.title}, ${age} old, asking ${asked}`,
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: `*${headline}*: ${title}\n>${slackEscape(card.reason)}` },
        },
        { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
        ...(link ? [button(link, 'Open the card')] : []),
      ],
    };
  }
  if (type.startsWith('run.')) {
    const d = data as {
      node_id?: string;
      prompt?: string;
      code?: string;
      message?: string;
      run?: { id: string; status: string; created_at: string } | null;
    };
    const runId = d.run?.id;
    const detail =
      type === 'run.paused'
        ? `asks: ${d.prompt ?? ''} (node ${d.node_id ?? '?'})`
        : type === 'run.failed'
          ? `${d.code ?? 'error'}: ${d.message ?? ''}`
          : 'finished';
    const link = runId ? siteLink(publicUrl, `runs/${encodeURIComponent(runId)}`) : undefined;
    const fields = [`*Status*\n${d.run?.status ?? type.slice(4)}`];
    if (d.run) fields.push(`*Age*\n${ageText(d.run.created_at, atMs)}`);
    return {
      text: `${headline}: ${detail}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*\n${slackEscape(detail)}` } },
        { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
        ...(link ? [button(link, 'Open the run')] : []),
      ],
    };
  }
  return {
    text: 'Switchboard test message: this endpoint receives Switchboard’s webhooks.',
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*Switchboard test message*\nThis endpoint receives Switchboard’s webhooks.',
        },
      },
    ],
  };
}
