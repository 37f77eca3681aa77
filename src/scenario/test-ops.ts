/**
 * Test-only operations, registered only when the environment has MMSIM_TEST_OPS=1 (never in the
 * catalogue): `test_spin` is a step that does not return while the variant's `test_spin` switch is
 * on, to test the per-task time limit that stops a model step that does not return.
 */
import { bind, proc } from '../engine/proc.js';
import { registerOp, registerSwitch } from './ops.js';

if (process.env.MMSIM_TEST_OPS === '1') {
  const spin = proc('test_spin', 'test only: a step that does not return', () => ({}), {
    spin: (k) => {
      for (;;) if (!k.sw('test_spin')) return k.ret(0);
    },
  });
  registerOp({
    name: 'test_spin',
    doc: 'test only: a step that never returns when the `test_spin` switch is on',
    fields: {},
    compile: () => ({ op: 'call', call: bind(spin, {}) }),
  });
  registerSwitch('test_spin', 'test only: `test_spin` steps do not return');
}
