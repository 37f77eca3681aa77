// Worker entry when mmsim runs from TypeScript sources (tests, tsx): load the TS worker through tsx.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./worker.ts', import.meta.url);
export default mod.default;
