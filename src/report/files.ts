/** The machine-readable report the CLI reads its exit code from. */
export const CONFORMANCE_JSON = 'conformance.json';

/** Where each shard's Playwright blob report goes, for `cci-conformance merge`. */
export const BLOB_DIR = 'blob';
