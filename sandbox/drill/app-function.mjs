// The drill's application function: the canary Update shifts its alias between two versions.
export async function handler() {
  return { version: process.env.APP_VERSION ?? 'unknown' };
}
