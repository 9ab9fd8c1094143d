import { finishInterruptedSetup } from './global-setup.js';

/**
 * Playwright runs this after the setup's own teardown, also when a stop (Ctrl-C, SIGTERM
 * through the CLI) cut the setup short and its own teardown was skipped: the keys that the
 * setup went on to make are then revoked here. After a setup that ended, it does nothing.
 */
export default async function globalTeardown(): Promise<void> {
  await finishInterruptedSetup();
}
