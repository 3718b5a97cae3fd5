import type { AiAssessmentJson } from '../contract/events';
import type { Severity, StepOutcome } from '../contract/statuses';

// The assessment a handoff gets when no language model is configured (LLM_PROVIDER `none` or
// `fake`, so in dev and tests): deterministic, labelled `heuristic`, and built only from what was
// recorded: the problem summary, the escalation's reason and the steps with their outcomes. It
// names a likely cause (the problem area the words point to, and what the steps add to it), what
// the steps rule out, and next steps. docs/escalations.md ("The heuristic assessment") explains it.

export interface HeuristicInput {
  handoff: { reason: string; severity: Severity; intent: 'escalate' | 'transfer' };
  session: { title: string; problemSummary: string; customer: string | null };
  steps: { action: string; outcome: StepOutcome; notes: string | null }[];
}

/** A problem area: the words that point to it, its usual cause, and what to check first. */
interface Area {
  name: string;
  words: RegExp;
  cause: string;
  checks: string[];
}

// Ordered from the most specific to the most general: on a tie in score the earlier one wins.
const AREAS: readonly Area[] = [
  {
    name: 'certificates',
    words: /\b(certificates?|certs?|tls|ssl|handshake|x\.?509|expired?)\b/g,
    cause: 'an expired, replaced or untrusted certificate somewhere on the path',
    checks: [
      'Check the certificate chain and expiry dates on both ends (openssl s_client -showcerts).',
      'Ask whether a certificate was renewed or a proxy started inspecting TLS recently.',
    ],
  },
  {
    name: 'sign-in',
    words:
      /\b(sso|saml|oauth|oidc|login|log ?in|sign[- ]?in|passwords?|2fa|mfa|otp|idp|okta|azure ad|entra|logged out)\b/g,
    cause:
      'the identity provider set-up: a claim or attribute mapping, clock skew, or a rotated signing certificate',
    checks: [
      'Compare a failing and a working user’s assertion (claims, groups, NameID) in the identity provider’s log.',
      'Check the clock of both ends and the IdP’s signing certificate (rotated recently?).',
    ],
  },
  {
    name: 'name resolution',
    words: /\b(dns|nxdomain|resolv\w*|hostnames?|cname|a record|ttl)\b/g,
    cause: 'name resolution: a DNS record that changed, or a stale cache on the customer’s side',
    checks: [
      'Resolve the host from the customer’s network and from outside (dig +trace) and compare.',
      'Flush the resolver cache on one affected machine and retry.',
    ],
  },
  {
    name: 'network',
    words:
      /\b(vpn|tunnels?|mtu|udp|tcp|packets?|firewalls?|proxy|nat|wi-?fi|network|drops?|disconnect\w*|reconnect\w*|latency)\b/g,
    cause:
      'the network path: packets dropped or fragmented on the way (MTU, a firewall or a NAT idle timeout)',
    checks: [
      'Capture traffic on both ends during a drop, and test the path MTU (ping with do-not-fragment).',
      'Look for an idle or session timeout on the customer’s firewall or NAT that matches the interval.',
    ],
  },
  {
    name: 'permissions',
    words: /\b(permissions?|403|forbidden|access denied|roles?|not authori[sz]ed|privileges?|scopes?)\b/g,
    cause: 'missing permissions: a role, group or scope that the user or the integration does not have',
    checks: [
      'Compare the roles and groups of an affected user with a working one.',
      'Check the audit log for a recent change of roles, groups or API scopes.',
    ],
  },
  {
    name: 'email',
    words: /\b(e-?mails?|smtp|bounc\w*|spam|inbox|dkim|spf|dmarc|notifications?)\b/g,
    cause: 'mail delivery: an SPF/DKIM/DMARC failure, a suppression list after bounces, or a spam filter',
    checks: [
      'Look the recipient up in the provider’s suppression and bounce lists.',
      'Check the message headers of one that arrived (SPF, DKIM and DMARC results).',
    ],
  },
  {
    name: 'billing',
    words: /\b(invoices?|billing|charged?|refunds?|payments?|declined|subscriptions?|plan|vat)\b/g,
    cause: 'the billing set-up: a plan or tax setting, or the payment provider refusing the charge',
    checks: [
      'Open the customer’s billing history and the payment provider’s log for the failing charge.',
      'Check for a recent plan change, coupon or tax-setting change on the account.',
    ],
  },
  {
    name: 'data sync',
    words: /\b(sync\w*|imports?|exports?|csv|duplicat\w*|missing|mismatch\w*|stale|backfill)\b/g,
    cause: 'a synchronisation job that failed or ran only in part, leaving data missing or stale',
    checks: [
      'Find the last sync or import job for this customer and read its error and row counts.',
      'Re-run it for one record and compare before and after.',
    ],
  },
  {
    name: 'integration',
    words: /\b(api|webhooks?|integrations?|rate[- ]limit\w*|429|5\d\d|endpoints?|callbacks?)\b/g,
    cause: 'an integration: the partner API answering errors or rate limiting, or a changed payload',
    checks: [
      'Pull the failing requests and their answers from the integration log (status, body, time).',
      'Check the partner’s status page and changelog for the time it started.',
    ],
  },
  {
    name: 'performance',
    words: /\b(slow\w*|timeouts?|timed out|hangs?|hanging|lag\w*|504|spinner|performance|load)\b/g,
    cause: 'a slow dependency, or requests that grew past a timeout (a larger account, a heavier query)',
    checks: [
      'Time the slow operation for this customer and for a small account, and compare.',
      'Look for a timeout value that matches how long it takes before it fails.',
    ],
  },
  {
    name: 'the app',
    words: /\b(crash\w*|freez\w*|ios|android|mobile|desktop app|browser|extension|cache)\b/g,
    cause: 'the client: a version-specific bug, or corrupt local data or cache',
    checks: [
      'Get the exact app and OS versions of affected and unaffected users.',
      'Try a clean profile (or a private window) to rule out local data.',
    ],
  },
];

/** Words that say the problem started after a change. */
const CHANGE =
  /\b(?:since|after|following)\s+(?:(?:the|a|an|our|their|last)\s+)?(?:[\w.-]+\s+){0,3}?(?:update|upgrade|release|deploy(?:ment)?|migration|rollout|change|version|patch)\b/i;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** A step's action, quoted, with its notes when there are some. */
const quote = (s: { action: string; notes: string | null }) =>
  `“${clip(s.action.trim(), 120)}”${s.notes?.trim() ? ` (${clip(s.notes.trim(), 100)})` : ''}`;

function score(area: Area, text: string): number {
  return text.match(area.words)?.length ?? 0;
}

/**
 * The area the record points to: the summary, title and reason count once, and the steps that
 * changed something (partial, worked) twice, since they are evidence rather than description.
 */
function bestArea(input: HeuristicInput): Area | undefined {
  const described =
    `${input.session.title} ${input.session.problemSummary} ${input.handoff.reason}`.toLowerCase();
  const evidence = input.steps
    .filter((s) => s.outcome === 'partial' || s.outcome === 'worked')
    .map((s) => `${s.action} ${s.notes ?? ''}`)
    .join(' ')
    .toLowerCase();
  const tried = input.steps
    .map((s) => s.action)
    .join(' ')
    .toLowerCase();
  let best: { area: Area; points: number } | undefined;
  for (const area of AREAS) {
    const points = score(area, described) + 2 * score(area, evidence) + score(area, tried);
    if (points > 0 && (!best || points > best.points)) best = { area, points };
  }
  return best?.area;
}

/** The deterministic assessment, generated at `now`. */
export function heuristicAssessment(input: HeuristicInput, now = new Date()): AiAssessmentJson {
  const { handoff, session, steps } = input;
  const by = (o: StepOutcome) => steps.filter((s) => s.outcome === o);
  const failed = by('failed');
  const partial = by('partial');
  const worked = by('worked');
  const unknown = by('unknown');
  const area = bestArea(input);
  const change = CHANGE.exec(`${session.problemSummary} ${session.title}`);
  const changeWords = change ? clip(change[0].trim(), 80) : null;

  const counts = [
    [failed.length, 'failed'],
    [partial.length, 'partly worked'],
    [worked.length, 'worked'],
    [unknown.length, 'with no known outcome'],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(', ');
  const tried =
    steps.length === 0
      ? 'Nothing has been recorded as tried yet.'
      : `${steps.length} step${steps.length === 1 ? '' : 's'} tried: ${counts}.`;
  const summary = `${session.customer ? `${session.customer}: ` : ''}${clip(session.problemSummary.trim(), 280)} ${tried} Escalated as ${handoff.severity}: ${clip(handoff.reason.trim(), 200)}`;

  // Likely cause: the area, what the steps add to it, and a change it started after.
  const cause: string[] = [];
  if (area) cause.push(`Most likely ${area.cause}.`);
  else cause.push('The record does not point to one area yet.');
  const lastPartial = partial.at(-1);
  if (lastPartial) {
    cause.push(`${quote(lastPartial)} partly helped, so the cause is on the path that step changed.`);
  } else if (failed.length > 0 && worked.length === 0) {
    cause.push(
      `None of the ${failed.length} attempted fix${failed.length === 1 ? '' : 'es'} changed anything, so it is probably not where they looked.`,
    );
  }
  if (changeWords) cause.push(`It started “${changeWords}”: that change is the first suspect.`);

  // What the steps rule out: each fix that failed, and each check that came back fine.
  const ruledOut = [
    ...failed.map((s) => `${quote(s)} was tried and did not help.`),
    ...worked.map((s) => `${quote(s)} worked, so that part is not what is still broken.`),
  ].slice(0, 8);

  const next: string[] = [];
  if (lastPartial) next.push(`Build on what partly worked: ${quote(lastPartial)}.`);
  if (changeWords) {
    next.push(
      `Confirm the regression: compare an affected user with one not yet on the change (“${changeWords}”).`,
    );
  }
  if (area) next.push(...area.checks);
  for (const s of unknown.slice(-2))
    next.push(`Find out what came of ${quote(s)}: its outcome was not recorded.`);
  if (steps.length === 0) next.push('Reproduce the problem and record the first step and its outcome.');
  if (failed.length > 0) {
    next.push(
      `Do not repeat what already failed: ${clip(failed.map((s) => s.action.trim()).join('; '), 200)}.`,
    );
  }
  if (handoff.severity === 'urgent' || handoff.severity === 'high') {
    next.push(`Tell the customer now that it is being worked on: the escalation is ${handoff.severity}.`);
  }
  return {
    source: 'heuristic',
    provider: 'heuristic',
    model: null,
    summary,
    likely_cause: cause.join(' '),
    ruled_out: ruledOut,
    suggested_next_steps: next.slice(0, 8),
    generated_at: now.toISOString(),
  };
}
