/** MM-model benchmark entries (time to first bug per strategy, states to complete). Filled in with the MM scenarios. */
export async function mmBench(): Promise<void> {}
