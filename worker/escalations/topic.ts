/** The hub topic every escalation event is logged on; one per account. */
export const ESCALATIONS_TOPIC = 'escalations';
