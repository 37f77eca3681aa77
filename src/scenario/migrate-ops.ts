/**
 * Migration operations of the scenario vocabulary (actors/mm/migrate.ts): `migrate` (compaction,
 * NUMA balancing or move_pages(2) migrating the anonymous folio a page maps) and `check_read` (a
 * load that must see a value: what was written survives a migration), and the switches of the
 * real migration bugs (actors/uffd/move.ts, actors/khugepaged/split.ts).
 */
import * as Schema from 'effect/Schema';
import { check_read } from '../../actors/mm/migrate-check.js';
import { MIGRATE_ASYNC, MIGRATE_SYNC, migrate_pages } from '../../actors/mm/migrate.js';
import { MAX_PC } from '../kernel/defs.js';
import { KERNEL } from '../kernel/kernel.js';
import type { VmaId } from '../kernel/ids.js';
import { bind } from '../engine/proc.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Value = Schema.Int.check(Schema.isBetween({ minimum: -1_000_000, maximum: 1_000_000 }));

function migratableVma(op: string, env: CompileEnv, name: string): VmaId {
  const K = KERNEL.find(env.b);
  if (!K) throw new Error(`${op} needs a \`world\` section`);
  const v = env.names.vma.get(name) as VmaId;
  const memfd = K.vma(v).memfd;
  if (memfd >= 0 && K.mapping(memfd).hugetlb) throw new Error(`${op}: VMA ${name} maps a hugetlb memfd; hugetlb migration is not modelled`);
  return v;
}

registerOp({
  name: 'migrate',
  doc:
    'migrate_pages of the folio (anonymous, or shmem: mapped there or in the page cache) at a page (as compaction, NUMA balancing or move_pages(2) would): isolate, ' +
    'folio lock (mode async: trylock only), try_to_migrate to migration entries, folio_migrate_mapping refcount check, copy, ' +
    'remove_migration_ptes; retried over the kernel passes (async: 10; sync: 3 async + 7 sync)',
  fields: { vma: Name, page: Page, mode: Schema.optional(Schema.Literals(['async', 'sync'])) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page: number; mode?: 'async' | 'sync' }, env) => {
    const v = migratableVma('migrate', env, a.vma);
    const mm = (KERNEL.find(env.b) as NonNullable<ReturnType<typeof KERNEL.find>>).vma(v).mm;
    return { op: 'call', call: bind(migrate_pages, { mm, vma: v, page: a.page, mode: a.mode === 'sync' ? MIGRATE_SYNC : MIGRATE_ASYNC }) };
  },
});

registerOp({
  name: 'check_read',
  doc: 'a user-space load from a page that must see `value` (an `invariant` verdict otherwise): what was written survives migration',
  fields: { vma: Name, page: Page, value: Value },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page: number; value: number }, env) => {
    const K = KERNEL.find(env.b);
    if (!K) throw new Error('check_read needs a `world` section');
    const v = env.names.vma.get(a.vma) as VmaId;
    return { op: 'call', call: bind(check_read, { mm: K.vma(v).mm, vma: v, page: a.page, value: a.value }) };
  },
});

registerSwitch(
  'uffd_move_pmd_migration_entry_fix',
  'move_pages checks pmd_present(*src_pmd) before pmd_folio and splits a pmd migration entry ("userfaultfd: fix a crash in UFFDIO_MOVE when PMD is a migration entry", aba6faec0103, v6.17); off: the folio of a migration pmd is read (a bogus folio)',
);
registerSwitch(
  'split_pmd_gup_fast_race_fix',
  '__split_huge_pmd_locked calls pmdp_invalidate only for a present pmd ("mm: fix race between __split_huge_pmd_locked() and GUP-fast", 3a5a8d343e1c, v6.10); off: v6.9, a migration pmd is invalidated first and looks present (arm64) to GUP-fast until pmd_populate',
);
