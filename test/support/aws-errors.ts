/** An error shaped like an AWS SDK v3 service exception, for services that export no class for it. */
export function awsServiceError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'req-1' },
  });
}
