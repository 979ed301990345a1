/**
 * Test-wide setup: no test may reach real AWS, and aws-local-stepfunctions needs
 * Promise.withResolvers on Node 20.
 */
import '../sandbox/core/polyfills.ts';

// Anything not mocked and not pointed at a sandbox fails fast on a closed loopback port,
// instead of reaching real AWS with whatever credentials the machine has.
process.env.AWS_ENDPOINT_URL ??= 'http://127.0.0.1:9';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
