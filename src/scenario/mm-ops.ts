/** Kernel operations of the scenario vocabulary. PLACEHOLDER until the MM model lands: none yet. */
export {};
