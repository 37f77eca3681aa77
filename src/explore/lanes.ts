/**
 * Which pool thread (lane) runs which task: a task goes to the lane that has run its scenario before,
 * so each thread loads, builds and JIT-compiles the code paths of only its own scenarios (every V8
 * isolate compiles on its own what it runs; measured on the catalogue: two threads that each ran
 * tasks of every scenario took ~2 s more CPU than one). A free lane takes, oldest first: a task of
 * a scenario it owns; else one of a scenario no lane owns yet (it becomes the owner); else any task
 * (it steals, so a single scenario's many tasks still use every lane). Results do not depend on
 * which lane ran a task.
 */
export class Lanes {
  private readonly free: boolean[];
  private readonly owner = new Map<string, number>();
  private readonly waiting: { key: string; go: (lane: number) => void }[] = [];

  constructor(lanes: number) {
    this.free = Array.from({ length: lanes }, () => true);
  }

  /** Wait for a lane for a task of scenario `key`; the lane is the caller's until release. */
  acquire(key: string): Promise<number> {
    return new Promise((go) => {
      this.waiting.push({ key, go });
      this.dispatch();
    });
  }

  /** Give `lane` back; it takes the next task it should. */
  release(lane: number): void {
    this.free[lane] = true;
    this.dispatch();
  }

  /** Hand waiting tasks to free lanes: first every lane's own tasks, then unowned ones, then steals. */
  private dispatch(): void {
    for (let rule = 0; rule < 3; rule++) {
      for (let lane = 0; lane < this.free.length && this.waiting.length > 0; lane++) {
        if (!this.free[lane]) continue;
        const i = this.pick(lane, rule);
        if (i < 0) continue;
        const [w] = this.waiting.splice(i, 1) as [{ key: string; go: (lane: number) => void }];
        if (!this.owner.has(w.key)) this.owner.set(w.key, lane);
        this.free[lane] = false;
        w.go(lane);
      }
    }
  }

  /** The index of the oldest waiting task `lane` takes under `rule` (0: its own, 1: unowned, 2: any), or -1. */
  private pick(lane: number, rule: number): number {
    if (rule === 0) return this.waiting.findIndex((w) => this.owner.get(w.key) === lane);
    if (rule === 1) return this.waiting.findIndex((w) => !this.owner.has(w.key));
    return this.waiting.length > 0 ? 0 : -1;
  }
}
