// The runtime's own message classes, for the distribution layer's codec: a call, cast, reply,
// DOWN or EXIT that crosses nodes must arrive as the same class, or the receiver would not
// recognise it. Not for applications.

export { CallReply, CallRequest, CastRequest, FromImpl, SystemRequest, TracedCallRequest, TracedCastRequest } from './gen-server/messages.ts';
export { DownMessageImpl, ExitMessageImpl } from './exit/reason.ts';
export { TracedMessage } from './process/traced-message.ts';
