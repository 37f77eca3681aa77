/**
 * The HTML viewer in a real browser (Debian's Chromium, driven by playwright-core): open a witness,
 * step to the verdict with the keyboard, check the state panel shows the detached table and the
 * device PTE the CPU no longer maps, that each protocol actor's machine is drawn with the state it is in
 * at the selected step, that hostile scenario strings appear as text, and that the page's script never
 * throws. Its screenshots are the README's: `MMSIM_SCREENSHOTS=1 npx vitest run test/trace/viewer-browser.test.ts`
 * writes them to docs/viewer-*.png; otherwise they go to a temporary folder, so a test run leaves the tree as it was.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-viewer-'));
const shots = process.env.MMSIM_SCREENSHOTS === '1' ? join(root, 'docs') : tmp;

/** The witness token `mmsim explore` prints for a verdict of a variant. */
function tokenOf(scenario: string, variant: string, verdict: string): string {
  const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'explore', scenario, '--variant', variant, '--json'], { cwd: root, encoding: 'utf8' });
  const f = (JSON.parse(r.stdout) as { findings: { verdict: string; token: string }[] }).findings.find((x) => x.verdict === verdict);
  if (!f) throw new Error(`${scenario}/${variant}: no ${verdict} found`);
  return f.token;
}

/** `mmsim replay ... --html FILE` with the compiled CLI; returns the file. */
function witness(name: string, args: string[]): string {
  const file = join(tmp, `${name}.html`);
  const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'replay', ...args, '--html', file], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`replay ${args.join(' ')}: ${r.stderr}`);
  return file;
}

let ctx: BrowserContext;
const errors: string[] = [];

async function open(file: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.setViewportSize({ width: 1500, height: 900 });
  page.on('pageerror', (e) => errors.push(`${file}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${file}: console: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) errors.push(`${file}: network request ${r.url()}`);
  });
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
  return page;
}

const state = (page: Page) => page.locator('#state').innerText();
const current = (page: Page) => page.locator('#cur').innerText();

// Without Debian's chromium a developer's run skips this; CI installs it (.ci/run) and never skips.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('the trace viewer in Chromium', () => {
  beforeAll(async () => {
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'mmsim-chromium-')), { executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    await ctx?.close();
  });

  it('UFFDIO_REMAP vs khugepaged: the verdict step is selected, the PTE table is shown detached', async () => {
    const token = tokenOf('uffd-remap-vs-khugepaged', 'khugepaged-mmap-read', 'invariant');
    const file = witness('remap', ['uffd-remap-vs-khugepaged', token, '--variant', 'khugepaged-mmap-read']);
    const page = await open(file);
    const total = await page.locator('#events tr[data-ev]').count();
    expect(await current(page)).toBe(`event ${total}/${total}, step ${(await page.locator('#events tr.verdict td.i').innerText()).trim()}, mover`);
    expect(await page.locator('#events tr.verdict').getAttribute('class')).toContain('sel');
    expect(await state(page)).toMatch(/^table 0 detached \(P pmd 0\): \[folio 0 rw dirty/m);
    await page.screenshot({ path: join(shots, 'viewer-remap-vs-khugepaged.png') });
    await page.keyboard.press('Home');
    expect(await current(page)).toMatch(/^event 1\//);
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    expect(await current(page)).toMatch(/^event 6\//);
    await page.keyboard.press('ArrowLeft');
    expect(await current(page)).toMatch(/^event 5\//);
    const actor = (await current(page)).split(', ').at(-1);
    await page.keyboard.press('n');
    expect((await current(page)).split(', ').at(-1)).toBe(actor);
    await page.keyboard.press('v');
    expect(await current(page)).toBe(`event ${total}/${total}, step ${(await page.locator('#events tr.verdict td.i').innerText()).trim()}, mover`);
    let changed = 0;
    for (let i = 0; i < 20 && changed === 0; i++) {
      await page.keyboard.press('ArrowLeft');
      changed = await page.locator('#state li.chg, #state li.new, #state li.del').count();
    }
    expect(changed).toBeGreaterThan(0); // some step before the verdict changed the state, and it is marked
    expect(await page.locator('#timeline .bar.held').count()).toBeGreaterThan(0);
    expect(await page.locator('#vband').count()).toBe(1);
    expect(await page.locator('#machines, .machine').count()).toBe(0); // no actor speaks a protocol: nothing extra
  }, 60_000);

  /** The state each protocol actor's card highlights, by actor. */
  const highlighted = (page: Page) =>
    page.locator('.machine').evaluateAll((cards) =>
      Object.fromEntries(cards.map((c) => [c.getAttribute('data-actor'), [...c.querySelectorAll('.pstate.cur')].map((g) => g.getAttribute('data-state')).join('|')])),
    );

  it("actors-rpc-fence: the server's machine highlights the state the protocol verdict names; stepping back moves the client's", async () => {
    const page = await open(witness('rpc', ['actors-rpc-fence', tokenOf('actors-rpc-fence', 'default', 'protocol'), '--variant', 'default']));
    const verdict = await page.locator('#events tr.verdict td.e').innerText();
    const [, actor, named] = /^protocol: (\S+) \(rpc-server\) in state (\S+) may not send Reply/.exec(verdict) ?? [];
    expect(actor).toBe('server');
    expect(await page.locator('.machine').count()).toBe(2);
    const atVerdict = await highlighted(page);
    expect(atVerdict.server).toBe(named);
    expect(await page.locator('.machine[data-actor="server"]').getAttribute('class')).toContain('refused');
    expect(await page.locator('.machine[data-actor="server"] .pnow').innerText()).toContain(`state: ${named} — refused: server (rpc-server) in state ${named}`);
    // Step back until an actor's highlighted state changes: the client before its Request went out.
    let before = atVerdict;
    for (let i = 0; i < 20 && JSON.stringify(before) === JSON.stringify(atVerdict); i++) {
      await page.keyboard.press('ArrowLeft');
      before = await highlighted(page);
    }
    expect(before).not.toEqual(atVerdict);
    expect(Object.values(before).every((s) => s !== '')).toBe(true); // one state highlighted per machine
    // The send of the Request: the transition it took is highlighted, from the state before to the state after.
    const send = page.locator('#events tr.k-send').first();
    const sendEv = Number(await send.getAttribute('data-ev'));
    const sender = await send.locator('td.a').innerText();
    // The state shown at an event is the state after its step: "from" is read at the step before the send's.
    const steps = await page.locator('#events tr[data-ev] td.i').evaluateAll((tds) => tds.map((td) => Number(td.textContent)));
    const prev = steps.findLastIndex((st, ev) => ev < sendEv && st < (steps[sendEv] as number));
    expect(prev).toBeGreaterThanOrEqual(0);
    await page.locator(`#events tr[data-ev="${prev}"]`).click();
    const from = (await highlighted(page))[sender];
    await send.click();
    const to = (await highlighted(page))[sender];
    expect(await page.locator(`.machine[data-actor="${sender}"] .pedges li.taken`).evaluateAll((l) => l.map((x) => x.textContent))).toEqual([`${from} --!Request--> ${to}`]);
    expect(await page.locator(`.machine[data-actor="${sender}"] .pedge.taken`).count()).toBe(1);
    expect(await page.locator('.pedges li.taken').count()).toBe(1);
  }, 60_000);

  it("udmabuf-pipeline: every protocol actor's machine is drawn, as `mmsim machines` lists it, with one state highlighted", async () => {
    const page = await open(witness('pipeline', ['udmabuf-pipeline', tokenOf('udmabuf-pipeline', 'discard', 'invariant'), '--variant', 'discard']));
    const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'machines', 'udmabuf-pipeline', '--json'], { cwd: root, encoding: 'utf8' });
    const listed = JSON.parse(r.stdout) as { actor: string; mermaid: string; xstate: { states: Record<string, unknown> } }[];
    expect(listed.length).toBeGreaterThanOrEqual(5);
    expect(await page.locator('.machine').evaluateAll((cs) => cs.map((c) => c.getAttribute('data-actor')))).toEqual(listed.map((m) => m.actor));
    for (const m of listed) {
      const card = page.locator(`.machine[data-actor="${m.actor}"]`);
      const states = await card.locator('.pstate').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state')));
      expect(states.sort()).toEqual(Object.keys(m.xstate.states).sort());
      const transitions = m.mermaid.split('\n').filter((l) => / --> s\d+: /.test(l)).length;
      expect(await card.locator('.pedges li').count()).toBe(transitions);
      expect(await card.locator('.pstate.cur').count()).toBe(1);
    }
  }, 60_000);

  it('HMM without mmu_interval_read_retry: the state panel shows the device PTE mapping a folio the CPU no longer maps', async () => {
    const token = tokenOf('mm-hmm-vs-punch', 'no-read-retry', 'invariant');
    const page = await open(witness('hmm', ['mm-hmm-vs-punch', token, '--variant', 'no-read-retry']));
    expect(await page.locator('#events tr.verdict').innerText()).toMatch(/missed mmu-notifier invalidation/);
    expect(await state(page)).toMatch(/^table 0 attached \(P pmd 0\): \[-, /m);
    expect(await state(page)).toMatch(/^mirror gpu seq \d+; device PTEs \[folio 0/m);
    await page.screenshot({ path: join(shots, 'viewer-hmm-vs-punch.png') });
  }, 60_000);

  it('the lock-order graph marks the edge that closes the abba cycle', async () => {
    const page = await open(witness('abba', ['abba', tokenOf('abba', 'default', 'deadlock'), '--variant', 'default']));
    expect(await page.locator('#graph line.dep').count()).toBe(2);
    expect(await page.locator('#graph line.dep.bad').count()).toBe(2);
    expect(await page.locator('#timeline .bar.blocked').count()).toBe(2);
  }, 60_000);

  it('hostile scenario strings appear as text; nothing they contain runs', async () => {
    const yaml = join(tmp, 'evil.yaml');
    const A = '</script><b>A';
    const B = `B"'<img src=x onerror=window.pwned=2>`;
    const T0 = 'T0</script><script>window.pwned=3</script>';
    const T1 = '<img src=x onerror=window.pwned=4>'; // never runs in the witness: only in the embedded data
    const NAME = `evil<img src=x onerror="window.pwned=1">'q`; // scenario names may not hold "/" (so no </script>)
    const q = (s: string) => JSON.stringify(s);
    writeFileSync(
      yaml,
      `name: ${q(NAME)}\ndescription: hostile strings\nlocks:\n  ${q(A)}: { kind: mutex }\n  ${q(B)}: { kind: mutex }\nactors:\n  - name: ${q(T0)}\n    ops:\n      - { op: lock, lock: ${q(A)} }\n      - { op: lock, lock: ${q(B)} }\n  - name: ${q(T1)}\n    ops:\n      - { op: lock, lock: ${q(B)} }\n      - { op: lock, lock: ${q(A)} }\nvariants:\n  default: { expect: [lock-misuse] }\n`,
    );
    const found = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'explore', yaml, '--json'], { cwd: root, encoding: 'utf8' });
    const token = JSON.parse(found.stdout).findings[0].token as string;
    const page = await open(witness('evil', [yaml, token]));
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img, b, body script:not(#mmsim-trace)').count()).toBe(1); // only the viewer's own script
    const text = await page.locator('body').innerText();
    for (const s of [A, B, T0, NAME]) expect(text).toContain(s);
  }, 60_000);

  it("the page's script threw nothing and asked nothing of the network", () => {
    expect(errors).toEqual([]);
  });
});
