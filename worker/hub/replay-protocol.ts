// The two control messages of a paged replay between the hub and the Worker. Neither is SSE:
// the marker is stripped by the Worker and never reaches a client.

/** Ends a replay page that is not the last: "ask me for more when your client has room". */
export const REPLAY_MORE = '\u0000more\u0000';

/** The Worker's request for the next page. */
export const REPLAY_MORE_REQUEST = 'more';
