/**
 * `kproc`: the kernel's way to define a procedure (`proc` with typed locals and labels):
 *
 *   export const move_pages_pte = kproc('move_pages_pte', 'mm/userfaultfd.c: move_pages_pte',
 *     (a: { mm: MmId; dst_vma: VmaId }) => ({ mm: a.mm, dst_vma: a.dst_vma, err: 0 }),
 *     { start: (k, l) => ..., out: (k, l) => k.ret(l.err) });
 *
 * The locals type must be a plain object type of numbers (same keys in the same order on every
 * call: the frame hash walks them). Steps read `l.mm`; a label they return or pass to `k.call` must
 * be a key of the step table.
 */
export { type NoArgs, proc as kproc } from '../engine/proc.js';
