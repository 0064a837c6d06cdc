import type { OutgoingResponse, Serializer } from '@nestjs/microservices';

/**
 * A microservice server's serializer that sees every packet just before the
 * transport writes it (TCP and Redis both serialize each one), and notes in
 * `journal` when a reply, an error, or the end of a stream left.
 */
export function replyRecorder(journal: string[]): Serializer<OutgoingResponse, OutgoingResponse> {
  return {
    serialize(packet) {
      if (packet.err !== undefined) journal.push('sent:error');
      else if (packet.response !== undefined) journal.push(`sent:${String(packet.response)}`);
      if (packet.isDisposed) journal.push('sent:end');
      return packet;
    },
  };
}
