'use strict';
// A minimal stand-in for the Serverless Framework host of serverless-prune-plugin.
//
// The plugin's own code (npm, unchanged) runs as Serverless runs it after a deploy with
// `custom.prune: {automatic: true, number: N}`: its `after:deploy:deploy` hook. The host
// supplies only what the plugin touches: `getProvider('aws').request(service, method, params)`,
// forwarded to the AWS SDK for JavaScript v3 (its default retry strategy: standard, 3 attempts)
// pointed at the endpoint given; errors wrapped as Serverless wraps them (`providerError` with
// `statusCode`, `code`, `message`, `retryable`), which the plugin reads; the service's
// functions; a logger. The Serverless Framework's own retry loop in `provider.request` is not
// reproduced: the SDK's retries are the only ones.
//
// Input (argv[2], JSON): {endpoint, region, keep, functions: [name, ...]}.
// Output (stdout, one JSON line): {seconds, error: null | {code, message, statusCode},
//                                  throttle_surfaced: bool, logs: [...]}.

const lambda = require('@aws-sdk/client-lambda');
const Prune = require('serverless-prune-plugin');

const THROTTLE_CODES = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling']);

function host(input, logs) {
  const client = new lambda.LambdaClient({
    region: input.region,
    endpoint: input.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const provider = {
    request(service, method, params) {
      if (service !== 'Lambda') {
        return Promise.reject(new Error(`the stand-in host serves Lambda only, not ${service}`));
      }
      const Command = lambda[`${method[0].toUpperCase()}${method.slice(1)}Command`];
      if (Command === undefined) {
        return Promise.reject(new Error(`no such Lambda method: ${method}`));
      }
      return client.send(new Command(params)).catch((sdkError) => {
        const error = new Error(sdkError.message);
        error.providerError = {
          code: sdkError.name,
          message: sdkError.message,
          statusCode: sdkError.$metadata && sdkError.$metadata.httpStatusCode,
          retryable: Boolean(sdkError.$retryable),
        };
        throw error;
      });
    },
  };
  const keys = input.functions.map((name, index) => `f${index}`);
  const names = Object.fromEntries(keys.map((key, index) => [key, input.functions[index]]));
  const log = (message) => logs.push(String(message));
  Object.assign(log, { info: log, notice: log, warning: log, success: log });
  const serverless = {
    getProvider: () => provider,
    cli: { log },
    service: {
      custom: { prune: { automatic: true, number: input.keep } },
      getAllFunctions: () => keys,
      getFunction: (key) => ({ name: names[key] }),
      getAllLayers: () => [],
      getLayer: (key) => ({ name: key }),
    },
  };
  return new Prune(serverless, {}, { log });
}

async function main() {
  const input = JSON.parse(process.argv[2]);
  const logs = [];
  const plugin = host(input, logs);
  const started = process.hrtime.bigint();
  let error = null;
  try {
    await plugin.hooks['after:deploy:deploy']();
  } catch (failure) {
    const detail = failure.providerError || {};
    error = { code: detail.code || failure.name, message: failure.message,
              statusCode: detail.statusCode || null };
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const throttled = error !== null && (error.statusCode === 429 || THROTTLE_CODES.has(error.code));
  process.stdout.write(`${JSON.stringify({ seconds, error, throttle_surfaced: throttled, logs })}\n`);
}

main().catch((failure) => {
  process.stderr.write(`${failure.stack || failure}\n`);
  process.exit(2);
});
