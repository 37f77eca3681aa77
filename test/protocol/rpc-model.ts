/** A client/server pair written in TypeScript on the protocol API (the shape the udmabuf pipeline uses). */
import { type Rpc, rpcClient, rpcServer } from '../../machines/rpc.js';
import { ModelBuilder, type Model } from '../../src/engine/model.js';
import { BLOCKED, ENDED, proc } from '../../src/engine/proc.js';

/** The client calls the server, takes the reply, then waits on the `done` fence; the server answers and signals it. `early`: the server replies before it has received anything (a protocol violation). */
export function rpcModel(early = false): Model {
  const b = new ModelBuilder(early ? 'rpc/early' : 'rpc');
  const done = b.fence('done');
  const client = proc('client', 'test: rpc client', () => ({ status: -1 }), {
    submit: (k) => (k.msg.call<Rpc>(1, { type: 'Request', id: 7, arg: 3 }) ? 'reply' : ENDED),
    reply: (k, l) => {
      const m = k.msg.recv(rpcClient);
      if (!m) return BLOCKED;
      if (m.type === 'Reply') l.status = m.status;
      return 'wait';
    },
    wait: (k) => (k.fence.wait(done) ? 'out' : BLOCKED),
    out: (k) => k.ret(0),
  });
  const server = proc('server', 'test: rpc server', () => ({ caller: -1, id: 0 }), {
    take: (k, l) => {
      if (early) return 'answer';
      const m = k.msg.recv(rpcServer);
      if (!m) return BLOCKED;
      l.caller = m.from;
      if (m.type === 'Request') l.id = m.id;
      return 'answer';
    },
    answer: (k, l) => (k.msg.reply<Rpc>(early ? 0 : l.caller, { type: 'Reply', id: l.id, status: 0 }) ? 'signal' : ENDED),
    signal: (k) => {
      k.fence.signal(done);
      return 'out';
    },
    out: (k) => k.ret(0),
  });
  b.protocol(b.thread('client', client), rpcClient);
  b.protocol(b.thread('server', server), rpcServer);
  return b.build();
}
