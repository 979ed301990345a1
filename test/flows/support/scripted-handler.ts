/**
 * A Lambda handler whose every answer comes from the test that runs it: it posts the event to the
 * test's script server (SCRIPT_URL, loopback) and returns what the script says, or throws an
 * error with the name and message the script gives (so the flow's Retry and Catch see exactly the
 * error names the real function would throw).
 */
export async function handler(event: unknown): Promise<unknown> {
  const response = await fetch(process.env.SCRIPT_URL!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ function: process.env.AWS_LAMBDA_FUNCTION_NAME, event }),
  });
  const answer = (await response.json()) as
    | { result: unknown }
    | { error: { name: string; message: string } };
  if ('error' in answer) {
    const error = new Error(answer.error.message);
    error.name = answer.error.name;
    throw error;
  }
  return answer.result;
}
