import type { StepOutcome } from '../contract/statuses';

// What the demo account's support team worked on this week: the problems its sessions are about,
// what was tried before escalating, what the person who picked each one up did, and why it was
// escalated. Plain data for worker/dev/demo-story.ts.

export interface DemoStep {
  action: string;
  outcome: StepOutcome;
  notes?: string;
}

export interface DemoProblem {
  title: string;
  summary: string;
  customers: readonly string[];
  /** Tried by the engineer who opened the session, before escalating. */
  tried: readonly DemoStep[];
  /** Done by whoever picked the hand-off up, before closing it. */
  followUp: readonly DemoStep[];
  reasons: readonly string[];
}

export const DEMO_PROBLEMS: readonly DemoProblem[] = [
  {
    title: 'VPN drops every five minutes',
    summary:
      'The customer’s VPN tunnel drops every five minutes since the 4.2 client update; reconnecting works until the next drop.',
    customers: ['Acme Corp', 'Northwind Traders'],
    tried: [
      { action: 'Restarted the VPN client', outcome: 'failed' },
      { action: 'Checked the status page for an outage', outcome: 'worked', notes: 'all green' },
      {
        action: 'Switched the tunnel from UDP to TCP',
        outcome: 'partial',
        notes: 'drops every 20 minutes now',
      },
    ],
    followUp: [
      {
        action: 'Lowered the tunnel MTU to 1380 on one laptop',
        outcome: 'worked',
        notes: 'no drop in 40 minutes',
      },
    ],
    reasons: [
      'Customer blocked, needs someone who knows the network stack',
      'Whole sales team offline on calls',
    ],
  },
  {
    title: 'SSO login loops back to the sign-in page',
    summary:
      'After signing in with Okta, users land back on the sign-in page. Started this morning for about half the users.',
    customers: ['Globex', 'Initech'],
    tried: [
      { action: 'Cleared cookies and tried a private window', outcome: 'failed' },
      {
        action: 'Compared a failing and a working user in the admin console',
        outcome: 'partial',
        notes: 'failing users are in the new “Contractors” group',
      },
      { action: 'Asked the customer whether the IdP changed', outcome: 'unknown' },
    ],
    followUp: [{ action: 'Mapped the Contractors group in the SAML attribute settings', outcome: 'worked' }],
    reasons: ['Identity set-up is beyond tier 1', 'Half the customer’s users cannot log in'],
  },
  {
    title: 'Invoice charged twice',
    summary: 'The November invoice was charged twice to the customer’s card; they want a refund today.',
    customers: ['Umbrella Health', 'Stark Logistics'],
    tried: [
      { action: 'Found both charges in the billing history', outcome: 'worked' },
      {
        action: 'Tried to refund the second charge from the console',
        outcome: 'failed',
        notes: 'refund button disabled',
      },
    ],
    followUp: [{ action: 'Refunded through the payment provider’s dashboard', outcome: 'worked' }],
    reasons: ['Needs billing permissions to refund', 'Finance must approve the refund'],
  },
  {
    title: 'CSV export times out for large projects',
    summary: 'Exports of projects with more than 50,000 rows time out after 30 seconds with a 504.',
    customers: ['Wayne Enterprises', 'Hooli'],
    tried: [
      { action: 'Raised the export timeout for the account', outcome: 'failed' },
      { action: 'Split the export by month', outcome: 'partial', notes: 'works up to about 20,000 rows' },
    ],
    followUp: [{ action: 'Ran the export as a background job and sent the link', outcome: 'worked' }],
    reasons: ['Needs an engineer who can run a background export', 'Customer’s quarterly report is due'],
  },
  {
    title: 'Emails to customers bounce',
    summary:
      'Notification emails to the customer’s own domain bounce with 550 since they moved their mail to a new provider.',
    customers: ['Soylent', 'Vandelay Industries'],
    tried: [
      { action: 'Sent a test notification', outcome: 'failed', notes: '550 5.7.1 rejected' },
      { action: 'Checked our SPF and DKIM records', outcome: 'worked', notes: 'both pass' },
      { action: 'Looked the address up in the suppression list', outcome: 'unknown' },
    ],
    followUp: [
      { action: 'Removed the domain from the suppression list after their MX fix', outcome: 'worked' },
    ],
    reasons: ['Needs access to the mail provider', 'Customer missing every alert'],
  },
  {
    title: 'Webhook deliveries failing with 401',
    summary:
      'Our webhooks to the customer’s endpoint fail with 401 since they rotated their signing secret yesterday.',
    customers: ['Cyberdyne', 'Tyrell'],
    tried: [
      { action: 'Sent a test ping', outcome: 'failed', notes: '401 invalid signature' },
      { action: 'Confirmed the endpoint URL is right', outcome: 'worked' },
    ],
    followUp: [
      {
        action: 'Walked the customer through verifying with both secrets during the rotation',
        outcome: 'worked',
      },
    ],
    reasons: ['Integration expertise needed', 'Their order pipeline depends on these webhooks'],
  },
  {
    title: 'Dashboard slow to load',
    summary: 'The main dashboard takes 40 seconds to load for the customer’s admins; other users are fine.',
    customers: ['Massive Dynamic', 'Acme Corp'],
    tried: [
      { action: 'Reproduced with an admin account', outcome: 'worked', notes: '38 s' },
      { action: 'Disabled browser extensions', outcome: 'failed' },
      { action: 'Removed the three largest widgets', outcome: 'partial', notes: 'down to 15 s' },
    ],
    followUp: [
      {
        action: 'Found the audit widget scanning a year of events; limited it to 30 days',
        outcome: 'worked',
      },
    ],
    reasons: ['Needs someone who can read the query plans', 'Admins cannot work'],
  },
  {
    title: 'Mobile app crashes on launch',
    summary: 'The iOS app crashes on launch for users on iOS 18.2 since this morning’s app update.',
    customers: ['Pied Piper', 'Globex'],
    tried: [
      { action: 'Reinstalled the app', outcome: 'failed' },
      { action: 'Checked the crash reports', outcome: 'partial', notes: 'all in the offline cache loader' },
    ],
    followUp: [{ action: 'Confirmed the hotfix build clears the bad cache', outcome: 'worked' }],
    reasons: ['Needs the mobile team', 'Field staff cannot open the app'],
  },
  {
    title: 'API returns 429 for a nightly sync',
    summary:
      'The customer’s nightly sync gets HTTP 429 from our API after about 2,000 requests, so half their data is missing.',
    customers: ['Initech', 'Hooli'],
    tried: [
      { action: 'Checked their plan’s rate limit', outcome: 'worked', notes: '2,000 requests per hour' },
      { action: 'Suggested exponential backoff', outcome: 'unknown' },
    ],
    followUp: [{ action: 'Raised the limit for the sync’s API key for two weeks', outcome: 'worked' }],
    reasons: ['Limit change needs approval', 'Data missing in their morning report'],
  },
  {
    title: 'Users cannot be added: permission denied',
    summary:
      'The customer’s new admin gets “permission denied” (403) when adding users, although she is an owner.',
    customers: ['Stark Logistics', 'Wonka Industries'],
    tried: [
      { action: 'Checked her role in the admin console', outcome: 'worked', notes: 'owner' },
      { action: 'Had her sign out and back in', outcome: 'failed' },
    ],
    followUp: [{ action: 'Fixed a stale role cache for the account', outcome: 'worked' }],
    reasons: ['Looks like a bug in roles', 'Onboarding 40 people today'],
  },
  {
    title: 'Custom domain shows a certificate error',
    summary:
      'The customer’s help center on their custom domain shows an expired certificate warning since last night.',
    customers: ['Wayne Enterprises', 'Soylent'],
    tried: [
      { action: 'Checked the certificate in the browser', outcome: 'worked', notes: 'expired yesterday' },
      {
        action: 'Triggered a renewal from the console',
        outcome: 'failed',
        notes: 'CNAME not pointing to us',
      },
    ],
    followUp: [{ action: 'Customer fixed the CNAME; renewed the certificate', outcome: 'worked' }],
    reasons: ['Customer-facing site down', 'DNS guidance needed'],
  },
  {
    title: 'Data missing after the import',
    summary:
      'After importing 12,000 contacts from their old CRM, about 800 are missing and some are duplicated.',
    customers: ['Northwind Traders', 'Umbrella Health'],
    tried: [
      {
        action: 'Downloaded the import report',
        outcome: 'partial',
        notes: '812 rows skipped: invalid dates',
      },
      { action: 'Re-ran the import with the default date format', outcome: 'failed' },
    ],
    followUp: [{ action: 'Fixed the date column and re-imported the skipped rows', outcome: 'worked' }],
    reasons: ['Needs a data fix in the database', 'Sales campaign starts tomorrow'],
  },
  {
    title: 'Two-factor codes not arriving',
    summary: 'SMS codes for two-factor sign-in do not arrive for the customer’s users in Germany.',
    customers: ['Tyrell', 'Massive Dynamic'],
    tried: [
      { action: 'Sent a code to a test number in Germany', outcome: 'failed' },
      {
        action: 'Checked the SMS provider status',
        outcome: 'partial',
        notes: 'degraded for one German carrier',
      },
    ],
    followUp: [{ action: 'Switched the affected users to the authenticator app for now', outcome: 'worked' }],
    reasons: ['Users locked out', 'Needs the SMS provider contact'],
  },
  {
    title: 'Report totals do not match',
    summary: 'The monthly revenue report is 3% lower than the sum of the invoices for the same month.',
    customers: ['Vandelay Industries', 'Pied Piper'],
    tried: [
      { action: 'Summed the invoices by hand', outcome: 'worked', notes: 'difference: refunds' },
      { action: 'Checked the report’s time zone', outcome: 'unknown' },
    ],
    followUp: [
      { action: 'Explained that the report nets out refunds; showed the gross view', outcome: 'worked' },
    ],
    reasons: ['Finance question beyond tier 1', 'Board meeting on Friday'],
  },
  {
    title: 'Calendar sync duplicates events',
    summary:
      'Every meeting booked through us shows up twice in the customer’s Outlook calendars since they reconnected the integration.',
    customers: ['Wonka Industries', 'Cyberdyne'],
    tried: [
      { action: 'Disconnected and reconnected the integration', outcome: 'failed' },
      { action: 'Found two active connections for the same mailbox', outcome: 'partial' },
    ],
    followUp: [{ action: 'Removed the stale connection and de-duplicated the events', outcome: 'worked' }],
    reasons: ['Needs database access to clean duplicates', 'Executives double-booked'],
  },
  {
    title: 'DNS change not picked up',
    summary:
      'The customer moved their domain to a new host but our service still resolves the old address after 48 hours.',
    customers: ['Initech', 'Acme Corp'],
    tried: [
      { action: 'Looked up the record from outside', outcome: 'worked', notes: 'new address' },
      { action: 'Flushed the customer’s resolver cache', outcome: 'failed' },
    ],
    followUp: [{ action: 'Flushed our resolver’s cache for the domain', outcome: 'worked' }],
    reasons: ['Our resolver cache needs flushing', 'Customer traffic going to the old host'],
  },
  {
    title: 'Password reset links expired',
    summary: 'Password reset links say “expired” the moment users open them.',
    customers: ['Hooli', 'Soylent'],
    tried: [
      { action: 'Sent a reset to a test user', outcome: 'failed', notes: 'expired at once' },
      { action: 'Checked the link’s validity setting', outcome: 'worked', notes: '24 hours' },
      {
        action: 'Opened the link in another browser',
        outcome: 'partial',
        notes: 'works from a desktop, not from Outlook on mobile',
      },
    ],
    followUp: [
      { action: 'Found the mail scanner pre-opening links; whitelisted our domain', outcome: 'worked' },
    ],
    reasons: ['Security-sensitive, needs a second pair of eyes', 'Users locked out'],
  },
  {
    title: 'Printer integration offline',
    summary: 'Label printing from the warehouse app stopped; the printer shows as offline in our console.',
    customers: ['Stark Logistics', 'Northwind Traders'],
    tried: [
      { action: 'Restarted the printer', outcome: 'failed' },
      {
        action: 'Pinged the print bridge from the warehouse network',
        outcome: 'partial',
        notes: 'answers, but port 9100 closed',
      },
    ],
    followUp: [
      { action: 'Customer’s firewall update closed 9100; reopened it with them', outcome: 'worked' },
    ],
    reasons: ['Warehouse cannot ship', 'Needs someone on site with the customer’s IT'],
  },
  {
    title: 'Search returns no results',
    summary: 'Search in the knowledge base returns nothing for any query since the weekend.',
    customers: ['Globex', 'Tyrell'],
    tried: [
      { action: 'Searched for a known article title', outcome: 'failed' },
      { action: 'Checked the index status', outcome: 'partial', notes: 'last indexed 3 days ago' },
    ],
    followUp: [{ action: 'Rebuilt the search index for the account', outcome: 'worked' }],
    reasons: ['Needs an index rebuild', 'Customers cannot self-serve'],
  },
  {
    title: 'Plan upgrade not applied',
    summary: 'The customer upgraded to the Business plan yesterday but still sees the Starter limits.',
    customers: ['Pied Piper', 'Wayne Enterprises'],
    tried: [
      { action: 'Checked the subscription', outcome: 'worked', notes: 'Business, paid' },
      { action: 'Asked them to sign out and in', outcome: 'failed' },
    ],
    followUp: [{ action: 'Re-synced the entitlements from billing', outcome: 'worked' }],
    reasons: ['Billing and entitlements out of sync', 'Customer paying for a plan they cannot use'],
  },
  {
    title: 'Slow file uploads from the Singapore office',
    summary: 'Uploads from the customer’s Singapore office run at 200 KB/s; other offices are fine.',
    customers: ['Massive Dynamic', 'Umbrella Health'],
    tried: [
      {
        action: 'Ran our speed test from Singapore',
        outcome: 'partial',
        notes: 'fine to the US region, slow to the EU one',
      },
      { action: 'Checked for an outage in the EU region', outcome: 'worked', notes: 'none' },
    ],
    followUp: [{ action: 'Moved their uploads to the nearest region', outcome: 'worked' }],
    reasons: ['Needs a region change', 'Design team blocked'],
  },
  {
    title: 'Audit log missing entries',
    summary: 'The audit log shows no entries for last Tuesday, which the customer needs for an audit.',
    customers: ['Cyberdyne', 'Vandelay Industries'],
    tried: [
      { action: 'Filtered the log by that day', outcome: 'failed', notes: 'empty' },
      { action: 'Checked the export of the same day', outcome: 'unknown' },
    ],
    followUp: [{ action: 'Restored the day from the archive', outcome: 'worked' }],
    reasons: ['Compliance deadline', 'Needs archive access'],
  },
];
