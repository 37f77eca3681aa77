/**
 * mmsim's public API: load a scenario, build a variant's model, explore it, replay a witness and
 * export its trace. The `mmsim` command (src/cli) is built on exactly these.
 */
export type { TraceEvent, Verdict, VerdictCode } from './engine/events.js';
export { VERDICT_CODES } from './engine/events.js';
export type { Model } from './engine/model.js';
export { ModelBuilder } from './engine/model.js';
export { proc, BLOCKED, ENDED } from './engine/proc.js';
export { World } from './engine/world.js';
export { dfs, type DfsFinding, type DfsOptions, type DfsResult } from './explore/dfs.js';
export type { SearchOrder, VisitedSet } from './explore/order.js';
export { PlainOrder } from './explore/order.js';
export { BoundedOrder } from './explore/bounded-order.js';
export { PorOrder } from './explore/por-order.js';
export { Portfolio } from './explore/portfolio.js';
export { DeterminismCheck, Nondeterminism } from './explore/determinism.js';
export { DEFAULTS, explore, type ExploreOptions, type ExploreResult, type Finding } from './explore/explore.js';
export { inlineRunner, poolRunner } from './explore/pool.js';
export { Pct } from './explore/pct.js';
export { RandomWalk } from './explore/random.js';
export { Replay } from './explore/replay.js';
export { replayToken, type ReplayResult } from './explore/replayer.js';
export type { Strategy } from './explore/strategy.js';
export { decodeLasso, decodeToken, encodeToken } from './explore/token.js';
export { LockGraph } from './locks/lockdep.js';
export { buildModel } from './scenario/build.js';
export { catalogueFiles, resolveScenario } from './scenario/catalogue.js';
export { ScenarioError } from './scenario/issues.js';
export { loadScenarioFile, parseScenario } from './scenario/load.js';
export { lockGraphToDot, toHtml, toJson, toMermaid, toPerfetto, toText } from './trace/index.js';
export { type MessageOf, type Protocol, protocol, type Vocabulary, vocabulary } from '../machines/protocol.js';
export { rpc, rpcClient, rpcServer } from '../machines/rpc.js';
export { protocolMermaid, protocolXstateJson } from '../machines/draw.js';
export type { Delivery } from './engine/delivery.js';
